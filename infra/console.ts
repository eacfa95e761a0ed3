import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Aws,
  CfnOutput,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Validations,
  type Acknowledgment,
  type CfnElement,
} from 'aws-cdk-lib';
import type { CfnApi, HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  AccountRecovery,
  ClientAttributes,
  CfnIdentityPool,
  CfnIdentityPoolRoleAttachment,
  CfnManagedLoginBranding,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClientIdentityProvider,
  UserPoolGroup,
  type CfnUserPoolClient,
  type UserPoolClient,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { FederatedPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  type IBucket,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import {
  buildConsole,
  inlineScriptHashes,
  withConfig,
  writeConsole,
  type ConsoleFile,
} from '../console/build.js';
import { contentSecurityPolicy } from '../console/csp.js';
import { CONSOLE_GROUP_ROUTES } from '../console/src/groups.js';
import type { ConsoleSettings, StageSettings } from './settings.js';

export { CONSOLE_GROUP_ROUTES };

/** Cognito groups: the lower precedence wins when a user is in both. */
const GROUP_PRECEDENCE = { admins: 0, reviewers: 1 } as const;

/** Headers a signed browser request carries, and the methods the groups' routes use. */
const CORS = {
  allowHeaders: [
    'authorization',
    'content-type',
    'x-amz-date',
    'x-amz-security-token',
    'x-amz-content-sha256',
  ],
  allowMethods: ['GET', 'PUT', 'POST', 'DELETE'],
  maxAge: 600,
};

export interface ConsoleProps {
  readonly settings: StageSettings;
  readonly options: ConsoleSettings;
  readonly api: HttpApi;
  /** The archive bucket: presigned audio links point at it. */
  readonly audioBucket: IBucket;
  readonly accessLogsBucket: IBucket;
}

/**
 * The recordings console in AWS: the single-page app in a private bucket behind CloudFront (origin
 * access control, HTTPS only, strict security headers), people in a Cognito user pool (no self sign-up,
 * managed login), and an identity pool that gives each signed-in person the temporary credentials of
 * their group's role, allowed to invoke exactly the API routes of that group. The browser signs every API
 * call with them, so the API keeps one authorization model (IAM) and its access log names the person.
 * The API accepts cross-origin calls from the console's origin only.
 */
export class Console extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly identityPool: CfnIdentityPool;
  readonly roles: Record<keyof typeof CONSOLE_GROUP_ROUTES, Role>;
  /** `https://<id>.cloudfront.net` */
  readonly url: string;
  private readonly scriptHashes: string[];

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    const { settings, options, api, audioBucket } = props;
    const stack = Stack.of(this);

    // Built here with esbuild (synchronous, offline, ≈ 0.1 s): hashed assets as a CDK asset, index.html
    // as data so that it can carry the exact CSP, which names the API (see headerCsp for why), and the
    // configuration. Both CSPs allow index.html's inline script by its hash.
    const files = buildConsole();
    const index = files.find((file) => file.path === 'index.html')!.body.toString('utf8');
    this.scriptHashes = inlineScriptHashes(index);

    // Only the build lives here (redeployed from source), so it goes with the stack in every stage.
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'console-bucket/',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.userPool = new UserPool(this, 'Users', {
      userPoolName: `vobiz-archive-console-${settings.stageName}`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: options.mfa === 'required' ? Mfa.REQUIRED : Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: options.featurePlan === 'plus' ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      ...(options.featurePlan === 'plus'
        ? { standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION }
        : {}),
      deletionProtection: !settings.throwaway,
      removalPolicy: settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.domain = this.userPool.addDomain('Login', {
      cognitoDomain: {
        domainPrefix: loginDomainPrefix(settings.stageName, options.domainPrefix),
      },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });

    // The people: replacing the pool would lose every account, so its logical id is pinned.
    (this.userPool.node.defaultChild as CfnElement).overrideLogicalId('ConsoleUserPool');

    const securityHeaders = (cacheControl: string, name: string) =>
      new ResponseHeadersPolicy(this, name, {
        comment: `vobiz-archive console (${settings.stageName}): security headers, Cache-Control ${cacheControl}`,
        securityHeadersBehavior: {
          contentSecurityPolicy: { contentSecurityPolicy: this.headerCsp(audioBucket), override: true },
          strictTransportSecurity: {
            accessControlMaxAge: Duration.days(730),
            includeSubdomains: true,
            override: true,
          },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
          referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
          xssProtection: { protection: false, override: true },
        },
        customHeadersBehavior: {
          customHeaders: [
            { header: 'Cache-Control', value: cacheControl, override: true },
            {
              header: 'Permissions-Policy',
              value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
              override: true,
            },
            { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
          ],
        },
      });

    const origin = S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `vobiz-recording-archive console (${settings.stageName})`,
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      // Europe, North America and Asia (India included); the cheapest classes leave India out.
      priceClass: PriceClass.PRICE_CLASS_200,
      // index.html (with the configuration in it): never cached, so a deploy shows at once.
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        responseHeadersPolicy: securityHeaders('no-cache', 'IndexHeaders'),
        compress: true,
      },
      additionalBehaviors: {
        // Named by content hash: cached at the edge and in browsers for a year.
        'assets/*': {
          origin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: securityHeaders('public, max-age=31536000, immutable', 'AssetHeaders'),
          compress: true,
        },
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    this.client = this.userPool.addClient('Client', {
      userPoolClientName: 'console',
      generateSecret: false, // a browser app: authorization code with PKCE, no secret
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${this.url}/`],
        logoutUrls: [`${this.url}/`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
      // Nothing the console writes: an absent list would let a user write every attribute (email included)
      // with their access token; the list cannot be empty, so it names one attribute of no consequence.
      writeAttributes: new ClientAttributes().withStandardAttributes({ locale: true }),
    });
    // Managed login only. Sign-in through the API (SRP and the other flows) is off: its tokens carry
    // aws.cognito.signin.user.admin, which would let users change their own email. The CDK leaves
    // ExplicitAuthFlows unset (Cognito then allows SRP and custom auth) unless it is given here.
    (this.client.node.defaultChild as CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];
    new CfnManagedLoginBranding(this, 'LoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });

    this.identityPool = new CfnIdentityPool(this, 'Identities', {
      allowUnauthenticatedIdentities: false,
      allowClassicFlow: false,
      cognitoIdentityProviders: [
        {
          clientId: this.client.userPoolClientId,
          providerName: this.userPool.userPoolProviderName,
          serverSideTokenCheck: true,
        },
      ],
    });
    const assumedBy = new FederatedPrincipal(
      'cognito-identity.amazonaws.com',
      {
        StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
        'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
      },
      'sts:AssumeRoleWithWebIdentity',
    );
    const apiId = stack.getLogicalId(api.node.defaultChild as CfnElement);
    const role = (group: keyof typeof CONSOLE_GROUP_ROUTES) => {
      const groupRole = new Role(this, group === 'admins' ? 'AdminRole' : 'ReviewerRole', {
        assumedBy,
        description: `vobiz-archive console ${group} (${settings.stageName}): invoke the ${group}' API routes`,
        maxSessionDuration: Duration.hours(1),
      });
      groupRole.addToPolicy(
        new PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: CONSOLE_GROUP_ROUTES[group].map(([method, path]) =>
            api.arnForExecuteApi(method, path, '*'),
          ),
        }),
      );
      new UserPoolGroup(this, group === 'admins' ? 'Admins' : 'Reviewers', {
        userPool: this.userPool,
        groupName: group,
        description:
          group === 'admins'
            ? 'Read recordings; legal hold, erasure, retry and the audit log'
            : 'Search, play and download recordings',
        precedence: GROUP_PRECEDENCE[group],
        role: groupRole,
      });
      for (const [method, path] of CONSOLE_GROUP_ROUTES[group]) {
        acknowledge(groupRole, {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/*/${method}${path}]`,
          reason:
            'A route ARN: `*` stands for any stage and for the {recording_id} path parameter; the method and path are fixed.',
        });
      }
      return groupRole;
    };
    this.roles = { reviewers: role('reviewers'), admins: role('admins') };
    // Token-based mapping: the role of the person's group (cognito:preferred_role); no group, no credentials.
    new CfnIdentityPoolRoleAttachment(this, 'RoleMapping', {
      identityPoolId: this.identityPool.ref,
      roleMappings: {
        console: {
          type: 'Token',
          ambiguousRoleResolution: 'Deny',
          identityProvider: `${this.userPool.userPoolProviderName}:${this.client.userPoolClientId}`,
        },
      },
    });

    const meta = `<meta http-equiv="Content-Security-Policy" content="${this.exactCsp(api, audioBucket)}" />`;
    // The configuration goes into index.html itself (no config.json round trip before the first search);
    // its values are ids and URLs, resolved at deploy time like the CSP's.
    const config = {
      apiUrl: api.apiEndpoint,
      region: stack.region,
      stage: settings.stageName,
      auth: {
        region: stack.region,
        userPoolId: this.userPool.userPoolId,
        userPoolClientId: this.client.userPoolClientId,
        identityPoolId: this.identityPool.ref,
        domain: this.domain.baseUrl(),
      },
    };
    const deployment = new BucketDeployment(this, 'Deploy', {
      sources: [
        Source.asset(stageAssets(files.filter((file) => file.immutable))),
        Source.data('index.html', withConfig(index.replace('<!--csp-->', meta), config)),
      ],
      destinationBucket: this.bucket,
      prune: true,
      retainOnDelete: false,
      memoryLimit: 256,
    });
    this.acknowledgeDeploymentHandler(deployment);

    // CORS for the console's origin only; the HTTP API answers the preflight itself (no authorizer).
    (api.node.defaultChild as CfnApi).addPropertyOverride('CorsConfiguration', {
      AllowOrigins: [this.url],
      AllowMethods: CORS.allowMethods,
      AllowHeaders: CORS.allowHeaders,
      MaxAge: CORS.maxAge,
      AllowCredentials: false,
    });

    acknowledge(this.distribution, {
      id: 'AwsSolutions-CFR1',
      reason:
        'No geo restriction: the console is for staff wherever they work; every data call needs a Cognito sign-in and IAM.',
    });
    acknowledge(this.distribution, {
      id: 'AwsSolutions-CFR2',
      reason:
        'No WAF (about 6 USD/month + requests): the distribution serves a few static files; the data sits behind IAM-signed API calls.',
    });
    acknowledge(this.distribution, {
      id: 'AwsSolutions-CFR3',
      reason:
        'Static files only; every data access is in the API access log with the caller identity, which is the audit trail that matters.',
    });
    acknowledge(this.distribution, {
      id: 'AwsSolutions-CFR4',
      reason:
        'The default *.cloudfront.net certificate cannot pin TLS 1.2; browsers negotiate TLS 1.2/1.3 anyway. A custom domain fixes it.',
    });
    if (options.mfa !== 'required') {
      acknowledge(this.userPool, {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional by the operator setting consoleMfa=optional for this stage; each user can still enable an authenticator app.',
      });
    }
    if (options.featurePlan !== 'plus') {
      acknowledge(this.userPool, {
        id: 'AwsSolutions-COG8',
        reason:
          'Essentials plan by the operator setting consoleFeaturePlan=essentials: no threat protection, no per-user Plus charge.',
      });
    }

    new CfnOutput(stack, 'ConsoleUrl', { value: `${this.url}/`, description: 'The recordings console' });
    new CfnOutput(stack, 'UserPoolId', {
      value: this.userPool.userPoolId,
      description: 'Console users: npm run console-user -- add <email> --user-pool-id <this>',
    });
    new CfnOutput(stack, 'UserPoolClientId', { value: this.client.userPoolClientId });
    new CfnOutput(stack, 'IdentityPoolId', { value: this.identityPool.ref });
  }

  /**
   * The CSP CloudFront sends with every file. It cannot name the API: the API's CORS names the
   * distribution, and the distribution's headers naming the API would make a dependency cycle. So it
   * allows API Gateway hosts of this region, and index.html carries the exact policy (`exactCsp`) in a
   * `<meta>` element; a browser enforces both, so only this API can be called.
   */
  private headerCsp(audioBucket: IBucket): string {
    return contentSecurityPolicy({
      connect: [`https://*.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, ...this.cognitoOrigins()],
      media: [this.audioOrigin(audioBucket)],
      scripts: this.scriptHashes,
    });
  }

  /** The console's own files, the API and Cognito for calls, the archive bucket for audio. */
  private exactCsp(api: HttpApi, audioBucket: IBucket): string {
    return contentSecurityPolicy({
      connect: [api.apiEndpoint, ...this.cognitoOrigins()],
      media: [this.audioOrigin(audioBucket)],
      scripts: this.scriptHashes,
      meta: true,
    });
  }

  private cognitoOrigins(): string[] {
    return [`https://cognito-identity.${Aws.REGION}.amazonaws.com`, this.domain.baseUrl()];
  }

  /** The SDK presigns virtual-hosted URLs on the bucket's regional endpoint. */
  private audioOrigin(audioBucket: IBucket): string {
    return `https://${audioBucket.bucketName}.s3.${Aws.REGION}.${Aws.URL_SUFFIX}`;
  }

  /** CDK's own BucketDeployment handler: findings about code and policies aws-cdk-lib owns. */
  private acknowledgeDeploymentHandler(deployment: BucketDeployment): void {
    const stack = Stack.of(this);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    const assets = `arn:<AWS::Partition>:s3:::cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-<AWS::AccountId>-<AWS::Region>/*`;
    acknowledge(deployment.handlerRole, {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's BucketDeployment handler writes its own logs with AWSLambdaBasicExecutionRole; it runs only during a deploy.",
    });
    for (const finding of [
      'Action::s3:Abort*',
      'Action::s3:DeleteObject*',
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      `Resource::<${bucketId}.Arn>/*`,
      `Resource::${assets}`,
    ]) {
      acknowledge(deployment.handlerRole, {
        id: `AwsSolutions-IAM5[${finding}]`,
        reason:
          "CDK's BucketDeployment handler copies the build from the CDK asset bucket into the console bucket; its grants cover just those two.",
      });
    }
    const handler = stack.node.children.find((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (handler) {
      acknowledge(handler, {
        id: 'AwsSolutions-L1',
        reason:
          "CDK's BucketDeployment handler: its Python runtime is chosen and kept current by aws-cdk-lib, not by this stack.",
      });
    }
  }
}

/** Writes the hashed assets once per distinct build into a folder CDK can stage as an asset. */
function stageAssets(files: readonly ConsoleFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(file.path).update(file.body);
  const directory = join(tmpdir(), 'vobiz-archive-console', hash.digest('hex').slice(0, 16));
  if (!existsSync(directory)) writeConsole(directory, files);
  return directory;
}

function acknowledge(construct: Construct, acknowledgment: Acknowledgment): void {
  Validations.of(construct).acknowledge(acknowledgment);
}

/**
 * The managed login's domain prefix: the stage's own setting; `account` for the domain stacks deployed
 * before this default was introduced (Cognito allows one prefix domain per pool, so an existing stack must
 * keep its own); by default the last group of the stack's id (a UUID: random, the same on every deploy,
 * and it tells nothing about the account).
 */
function loginDomainPrefix(stageName: string, setting: string | undefined): string {
  if (setting === 'account') return `vobiz-archive-${stageName}-${Aws.ACCOUNT_ID}`;
  if (setting !== undefined) return setting;
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return `vobiz-archive-${stageName}-${Fn.select(4, Fn.split('-', stackUuid))}`;
}
