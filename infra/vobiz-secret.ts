import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { VOBIZ_SECRET_PLACEHOLDER_AUTH_ID } from '../functions/shared/config.js';
import { pin, type DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';

/**
 * The Vobiz credentials `{auth_id, auth_token, parent_auth_token?}`: created by the stack (with a
 * placeholder the functions refuse until the operator puts the real value) or an existing secret given
 * by ARN. Every function that needs it gets read access through `grantRead`, and nothing else.
 */
export class VobizSecret extends Construct {
  readonly secret: ISecret;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: { settings: StageSettings; store: DataStore },
  ) {
    super(scope, id);
    const { settings, store } = props;
    if (settings.vobizSecretArn) {
      this.secret = Secret.fromSecretCompleteArn(this, 'Imported', settings.vobizSecretArn);
      return;
    }
    const secret = new Secret(this, 'Secret', {
      description: `Vobiz API credentials for vobiz-recording-archive (${settings.stageName}): {"auth_id","auth_token","parent_auth_token"?}`,
      encryptionKey: store.key,
      // A placeholder that fails the functions' auth_id check until the operator puts the real value.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ auth_id: VOBIZ_SECRET_PLACEHOLDER_AUTH_ID }),
        generateStringKey: 'auth_token',
        excludePunctuation: true,
      },
      removalPolicy: settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    pin(secret, 'VobizSecret');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Vobiz auth tokens are issued and rotated in the Vobiz console, which has no API a rotation Lambda could call; docs/guides/runbook.md documents put-secret-value after a rotation.',
    });
    this.secret = secret;
  }

  get secretArn(): string {
    return this.secret.secretArn;
  }

  /** Read access; for an existing secret under its own KMS key, decrypt through Secrets Manager only. */
  grantRead(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
    const keyArn = this.props.settings.vobizSecretKmsKeyArn;
    if (keyArn) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
  }
}
