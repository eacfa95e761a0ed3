import { RemovalPolicy, Validations, type Duration } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/shared/framework/observability.js';
import { functionCode } from './bundling.js';
import type { StageSettings } from './settings.js';

export interface ArchiveFunctionProps {
  /** Absolute path of the handler module (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** The stage decides log retention and removal, log level and tracing, the same for every function. */
  readonly settings: Pick<StageSettings, 'logRetention' | 'throwaway' | 'logLevel' | 'tracing'>;
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A function with the house defaults: Node 22 on arm64, an ESM bundle with the SDK inside and source
 * maps (infra/bundling.ts), its own log group with retention, its own role (no AWS-managed policies),
 * and the Powertools settings every function shares. Permissions are added only through `bind`.
 */
export class ArchiveFunction extends LambdaFunction {
  /** The handler module it bundles (bench:coldstart measures every function of the stack by it). */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: ArchiveFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.settings.logRetention,
      removalPolicy: props.settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    // An explicit role instead of the default one with AWSLambdaBasicExecutionRole (logs:* on every log group).
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    super(scope, id, {
      code: functionCode(props.entry),
      handler: 'index.handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      tracing: props.settings.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      // No NODE_OPTIONS=--enable-source-maps: it decodes the maps at every cold start; the functions
      // map a stack trace when one is formatted (functions/shared/framework/stack-traces.ts).
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.settings.logLevel,
      },
    });
    this.entry = props.entry;
    logGroup.grantWrite(role);

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is deliberate: the code is tested on Node 20/22 and the pinned AWS SDK line supports 22. Move to nodejs24.x once the test matrix covers it.',
    });
    if (props.settings.tracing) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions (added by tracing: ACTIVE).',
      });
    }
  }

  /**
   * Sets an environment variable and grants what the value is used for, in one call, so that the
   * configuration a function reads and the permissions it holds cannot drift apart.
   */
  bind(name: string, value: string, grant?: (grantee: IGrantable) => void): this {
    this.addEnvironment(name, value);
    grant?.(this);
    return this;
  }
}
