/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- CloudFormation JSON, asserted field by field */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildConsole, inlineScriptHashes } from '../../console/build.js';
import { LOCAL_GROUP_HEADER } from '../../console/src/groups.js';
import { CONSOLE_GROUP_ROUTES } from '../../infra/console.js';
import { resolveStageSettings, SettingsError } from '../../infra/settings.js';
import { buildStack } from './build.js';

const prod = buildStack('prod');
const dev = buildStack('dev', { consoleMfa: 'optional', consoleFeaturePlan: 'essentials' });
const without = buildStack('prod', { console: 'false' });

/** CloudFormation JSON, loosely typed on purpose: the assertions state its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function resources(built: typeof prod, type: string): [string, Json][] {
  return Object.entries(built.template.findResources(type));
}

function only(built: typeof prod, type: string): Json {
  const found = resources(built, type);
  expect(found, type).toHaveLength(1);
  return found[0]![1].Properties;
}

function logicalId(built: typeof prod, construct: { node: { defaultChild?: unknown } }): string {
  return built.stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** A template value with its tokens written as `${LogicalId}` / `${LogicalId.Attr}` / `${AWS::Region}`. */
function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(text).join('');
  if (value?.Ref) return `\${${value.Ref}}`;
  if (value?.['Fn::GetAtt']) return `\${${value['Fn::GetAtt'].join('.')}}`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(text).join(value['Fn::Join'][0]);
  throw new Error(`unexpected template value ${JSON.stringify(value)}`);
}

const apiId = logicalId(prod, prod.stack.api);
/** The hash of index.html's one inline script (the boot script), which both CSPs must allow. */
const INLINE_SCRIPT = inlineScriptHashes(
  buildConsole()
    .find((f) => f.path === 'index.html')!
    .body.toString(),
)[0]!;
const distributionId = logicalId(prod, prod.stack.console!.distribution);
const consoleBucketId = logicalId(prod, prod.stack.console!.bucket);

function headerPolicies(built: typeof prod): Record<string, Json> {
  return Object.fromEntries(
    resources(built, 'AWS::CloudFront::ResponseHeadersPolicy').map(([, r]) => {
      const config = r.Properties.ResponseHeadersPolicyConfig;
      const cacheControl = config.CustomHeadersConfig.Items.find(
        (h: Json) => h.Header === 'Cache-Control',
      ).Value;
      return [cacheControl, config];
    }),
  );
}

describe('console hosting', () => {
  it('keeps the bucket private: all public access blocked, TLS only, readable by this distribution alone (OAC)', () => {
    const bucket = prod.template.toJSON().Resources[consoleBucketId].Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = resources(prod, 'AWS::S3::BucketPolicy').find(
      ([, r]) => r.Properties.Bucket.Ref === consoleBucketId,
    )![1].Properties.PolicyDocument.Statement as Json[];
    const allows = policy.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Action: 's3:GetObject',
      Principal: { Service: 'cloudfront.amazonaws.com' },
    });
    expect(text(allows[0].Condition.StringEquals['AWS:SourceArn'])).toContain(`\${${distributionId}}`);
    expect(policy.find((s) => s.Effect === 'Deny')).toMatchObject({
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });

    const oac = only(prod, 'AWS::CloudFront::OriginAccessControl').OriginAccessControlConfig;
    expect(oac).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const config = only(prod, 'AWS::CloudFront::Distribution').DistributionConfig;
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.Origins[0].S3OriginConfig.OriginAccessIdentity).toBe('');
  });

  it('serves over HTTPS only: index and config never cached, hashed assets cached for a year', () => {
    const config = only(prod, 'AWS::CloudFront::Distribution').DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    const behaviors = [config.DefaultCacheBehavior, ...config.CacheBehaviors];
    expect(behaviors.map((b: Json) => b.ViewerProtocolPolicy)).toEqual([
      'redirect-to-https',
      'redirect-to-https',
    ]);
    expect(config.CacheBehaviors.map((b: Json) => b.PathPattern)).toEqual(['assets/*']);
    // AWS managed cache policies: CachingDisabled, CachingOptimized.
    expect(config.DefaultCacheBehavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
    expect(config.CacheBehaviors[0].CachePolicyId).toBe('658327ea-f89d-4fab-a63d-7e88639e58f6');
    expect(Object.keys(headerPolicies(prod)).sort()).toEqual([
      'no-cache',
      'public, max-age=31536000, immutable',
    ]);
  });

  it('sends strict security headers: a CSP that allows only the API, Cognito and the audio bucket', () => {
    for (const policy of Object.values(headerPolicies(prod))) {
      const security = policy.SecurityHeadersConfig;
      expect(security.StrictTransportSecurity).toMatchObject({
        AccessControlMaxAgeSec: 63_072_000,
        IncludeSubdomains: true,
      });
      expect(security.FrameOptions.FrameOption).toBe('DENY');
      expect(security.ReferrerPolicy.ReferrerPolicy).toBe('no-referrer');
      expect(security.ContentTypeOptions.Override).toBe(true);
      const csp = text(security.ContentSecurityPolicy.ContentSecurityPolicy);
      const directives = Object.fromEntries(
        csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]),
      );
      expect(directives).toEqual({
        'default-src': "'none'",
        'script-src': `'self' ${INLINE_SCRIPT}`,
        'style-src': "'self'",
        'img-src': "'self' data:",
        'connect-src':
          "'self' https://*.execute-api.${AWS::Region}.${AWS::URLSuffix} https://cognito-identity.${AWS::Region}.amazonaws.com " +
          `https://\${${logicalId(prod, prod.stack.console!.domain)}}.auth.\${AWS::Region}.amazoncognito.com`,
        'media-src': 'https://${RecordingsBucket}.s3.${AWS::Region}.${AWS::URLSuffix}',
        'base-uri': "'none'",
        'form-action': "'self'",
        'frame-ancestors': "'none'",
        'object-src': "'none'",
      });
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\s\*(\s|;|$)/);
    }
  });

  it("deploys index.html with the exact CSP naming this API and the stack's ids as its configuration", () => {
    const deployment = only(prod, 'Custom::CDKBucketDeployment');
    const markers = (deployment.SourceMarkers as Json[]).map((m) => Object.values(m).map(text));
    // Sources: the hashed assets, index.html (CSP, configuration); no config.json round trip.
    expect(markers).toHaveLength(2);
    expect(markers[1]).toEqual(
      expect.arrayContaining([
        `\${${apiId}.ApiEndpoint}`,
        '${ConsoleUserPool}',
        `\${${logicalId(prod, prod.stack.console!.client)}}`,
        `\${${prod.stack.getLogicalId(prod.stack.console!.identityPool)}}`,
      ]),
    );
    expect(deployment.Prune).toBe(true);

    // The file as deployed (tokens are markers the deployment fills in): the meta CSP allows the inline
    // boot script of this very file by its hash, and the configuration block is JSON with the ids.
    const deployed = readdirSync(prod.app.outdir)
      .map((dir) => join(prod.app.outdir, dir, 'index.html'))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file, 'utf8'));
    expect(deployed).toHaveLength(1);
    const html = deployed[0]!;
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    expect(inlineScriptHashes(html)).toEqual([INLINE_SCRIPT]);
    expect(meta).toContain(`script-src 'self' ${INLINE_SCRIPT};`);
    expect(meta).not.toMatch(/unsafe-inline|unsafe-eval/);
    const block = /<script type="application\/json" id="config">(.*?)<\/script>/.exec(html)![1]!;
    const config = JSON.parse(block);
    expect(config).toMatchObject({ stage: 'prod' });
    expect(Object.keys(config.auth).sort()).toEqual([
      'domain',
      'identityPoolId',
      'region',
      'userPoolClientId',
      'userPoolId',
    ]);
  });

  it('lets the API accept cross-origin calls from the console origin only', () => {
    const cors = prod.template.toJSON().Resources[apiId].Properties.CorsConfiguration;
    expect(cors.AllowOrigins.map(text)).toEqual([`https://\${${distributionId}.DomainName}`]);
    expect(cors).toMatchObject({ AllowMethods: ['GET', 'PUT', 'POST', 'DELETE'], AllowCredentials: false });
    expect(cors.AllowHeaders).toEqual(
      expect.arrayContaining(['authorization', 'x-amz-date', 'x-amz-security-token']),
    );
    // The local stack's stand-in for a group is no header a browser may send to the API in AWS.
    expect(cors.AllowHeaders).not.toContain(LOCAL_GROUP_HEADER);
  });
});

describe('console sign-in', () => {
  it('has a user pool without self sign-up, with required MFA (authenticator app), a strong password policy and threat protection', () => {
    const pool = only(prod, 'AWS::Cognito::UserPool');
    expect(pool.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(pool.MfaConfiguration).toBe('ON');
    expect(pool.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(pool.Policies.PasswordPolicy).toMatchObject({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
    expect(pool.UsernameAttributes).toEqual(['email']);
    expect(pool.UserPoolTier).toBe('PLUS');
    expect(pool.UserPoolAddOns.AdvancedSecurityMode).toBe('ENFORCED');
    expect(pool.DeletionProtection).toBe('ACTIVE');
    expect(prod.template.toJSON().Resources.ConsoleUserPool.DeletionPolicy).toBe('Retain');
    expect(only(dev, 'AWS::Cognito::UserPool')).toMatchObject({
      MfaConfiguration: 'OPTIONAL',
      UserPoolTier: 'ESSENTIALS',
    });
  });

  it('signs in with managed login: a public client, authorization code only, back to the console URL', () => {
    const client = only(prod, 'AWS::Cognito::UserPoolClient');
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthScopes.sort()).toEqual(['email', 'openid', 'profile']);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    expect(client.CallbackURLs.map(text)).toEqual([`https://\${${distributionId}.DomainName}/`]);
    expect(client.PreventUserExistenceErrors).toBe('ENABLED');
    expect(only(prod, 'AWS::Cognito::UserPoolDomain').ManagedLoginVersion).toBe(2);
    expect(only(prod, 'AWS::Cognito::ManagedLoginBranding').UseCognitoProvidedValues).toBe(true);
  });

  it('allows no sign-in but managed login: no SRP, password or custom flows, only refreshing its tokens', () => {
    // Tokens from InitiateAuth (SRP and the rest) carry aws.cognito.signin.user.admin, which lets a user
    // change their own attributes; managed login needs none of these flows.
    expect(only(prod, 'AWS::Cognito::UserPoolClient').ExplicitAuthFlows).toEqual([
      'ALLOW_REFRESH_TOKEN_AUTH',
    ]);
    expect(only(prod, 'AWS::Cognito::UserPoolClient').AllowedOAuthScopes).not.toContain(
      'aws.cognito.signin.user.admin',
    );
  });

  it('lets no user change their own email through the client, and keeps the pool schema as deployed', () => {
    const client = only(prod, 'AWS::Cognito::UserPoolClient');
    expect(client.WriteAttributes).toEqual(['locale']);
    // Mutable cannot be changed on an existing pool's attribute: the client's write list closes it instead.
    expect(only(prod, 'AWS::Cognito::UserPool').Schema).toEqual([
      { Name: 'email', Required: true, Mutable: true },
    ]);
  });

  it('names the login domain after the stack, not the account, the same on every deploy', () => {
    const domain = (built: typeof prod) => JSON.stringify(only(built, 'AWS::Cognito::UserPoolDomain').Domain);
    expect(domain(prod)).not.toContain('AWS::AccountId');
    expect(domain(prod)).toContain('AWS::StackId');
    expect(domain(prod)).toContain('vobiz-archive-prod-');
    expect(domain(buildStack('prod'))).toBe(domain(prod));
    expect(domain(buildStack('prod', { consoleDomainPrefix: 'acme-recordings' }))).toBe('"acme-recordings"');
    // A stack deployed before keeps its domain (Cognito allows one prefix domain per pool, so a new one fails).
    expect(domain(buildStack('prod', { consoleDomainPrefix: 'account' }))).toBe(
      JSON.stringify({ 'Fn::Join': ['', ['vobiz-archive-prod-', { Ref: 'AWS::AccountId' }]] }),
    );
  });

  it('gives credentials only to signed-in members of a group, with their group role (token mapping, ambiguity denied)', () => {
    const pool = only(prod, 'AWS::Cognito::IdentityPool');
    expect(pool.AllowUnauthenticatedIdentities).toBe(false);
    expect(pool.AllowClassicFlow).toBe(false);
    expect(pool.CognitoIdentityProviders).toHaveLength(1);
    expect(pool.CognitoIdentityProviders[0].ServerSideTokenCheck).toBe(true);
    const attachment = only(prod, 'AWS::Cognito::IdentityPoolRoleAttachment');
    expect(attachment.Roles).toBeUndefined();
    expect(Object.values(attachment.RoleMappings)).toEqual([
      expect.objectContaining({ Type: 'Token', AmbiguousRoleResolution: 'Deny' }),
    ]);
    const groups = Object.fromEntries(
      resources(prod, 'AWS::Cognito::UserPoolGroup').map(([, r]) => [r.Properties.GroupName, r.Properties]),
    );
    expect(Object.keys(groups).sort()).toEqual(['admins', 'reviewers']);
    expect(groups.admins.Precedence).toBeLessThan(groups.reviewers.Precedence);
    for (const [group, role] of [
      ['admins', prod.stack.console!.roles.admins],
      ['reviewers', prod.stack.console!.roles.reviewers],
    ] as const) {
      expect(groups[group].RoleArn).toEqual({ 'Fn::GetAtt': [logicalId(prod, role), 'Arn'] });
    }
  });

  it.each(['reviewers', 'admins'] as const)(
    'lets %s invoke exactly their routes, assumed only through this identity pool by signed-in users',
    (group) => {
      const role = prod.stack.console!.roles[group];
      const roleId = logicalId(prod, role);
      const template = prod.template.toJSON().Resources;
      const trust = template[roleId].Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: 'cognito-identity.amazonaws.com' },
          Condition: {
            StringEquals: {
              'cognito-identity.amazonaws.com:aud': {
                Ref: prod.stack.getLogicalId(prod.stack.console!.identityPool),
              },
            },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
        },
      ]);
      expect(template[roleId].Properties.ManagedPolicyArns).toBeUndefined();
      const statements = resources(prod, 'AWS::IAM::Policy')
        .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
      expect(statements.map((s: Json) => s.Action)).toEqual(['execute-api:Invoke']);
      const routes = [statements[0].Resource].flat().map((r: Json) => {
        const arn = text(r);
        expect(arn).toMatch(
          new RegExp(
            `^arn:\\$\\{AWS::Partition\\}:execute-api:\\$\\{AWS::Region\\}:\\$\\{AWS::AccountId\\}:\\$\\{${apiId}\\}/\\*/`,
          ),
        );
        return arn.slice(arn.indexOf('/*/') + 3);
      });
      const expected = {
        reviewers: ['GET/recordings', 'GET/recordings/*'],
        admins: [
          'GET/recordings',
          'GET/recordings/*',
          'PUT/recordings/*/legal-hold',
          'DELETE/recordings/*/legal-hold',
          'DELETE/recordings/*',
          'POST/recordings/*/retry',
          'GET/audit',
        ],
      }[group];
      expect(routes.sort()).toEqual([...expected].sort());
      expect(CONSOLE_GROUP_ROUTES[group].map(([m, p]) => `${m}${p}`).sort()).toEqual([...expected].sort());
    },
  );

  it('refuses reviewers every administrator action at the policy level, and lets administrators do them all', () => {
    // What API Gateway authorizes: execute-api:Invoke on arn:…:{api}/{stage}/{METHOD}/{path}.
    const invokable = (group: 'reviewers' | 'admins') => {
      const roleId = logicalId(prod, prod.stack.console!.roles[group]);
      const patterns = resources(prod, 'AWS::IAM::Policy')
        .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
        .filter((st: Json) => st.Effect === 'Allow' && st.Action === 'execute-api:Invoke')
        .flatMap((st: Json) => [st.Resource].flat().map(text))
        .map(
          (arn: string) => new RegExp(`^${arn.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
        );
      return (method: string, path: string) =>
        patterns.some((p: RegExp) =>
          p.test(
            `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${apiId}}/$default/${method}${path}`,
          ),
        );
    };
    const reviewer = invokable('reviewers');
    const admin = invokable('admins');
    const actions = [
      ['PUT', '/recordings/r1/legal-hold'],
      ['DELETE', '/recordings/r1/legal-hold'],
      ['DELETE', '/recordings/r1'],
      ['POST', '/recordings/r1/retry'],
      ['GET', '/audit'],
    ] as const;
    for (const [method, path] of actions) {
      expect(reviewer(method, path), `reviewer ${method} ${path}`).toBe(false);
      expect(admin(method, path), `admin ${method} ${path}`).toBe(true);
    }
    for (const [method, path] of [
      ['GET', '/recordings'],
      ['GET', '/recordings/r1'],
      ['GET', '/recordings/r1/audio'],
    ] as const) {
      expect(reviewer(method, path), `reviewer ${method} ${path}`).toBe(true);
      expect(admin(method, path), `admin ${method} ${path}`).toBe(true);
    }
    expect(admin('POST', '/recordings/r1')).toBe(false);
    expect(admin('PATCH', '/recordings/r1')).toBe(false);
  });

  it('reports the console URL and the pool ids', () => {
    const outputs = prod.template.toJSON().Outputs;
    expect(text(outputs.ConsoleUrl.Value)).toBe(`https://\${${distributionId}.DomainName}/`);
    expect(outputs.UserPoolId.Value).toEqual({ Ref: 'ConsoleUserPool' });
    expect(outputs.UserPoolClientId.Value).toBeDefined();
    expect(outputs.IdentityPoolId.Value).toBeDefined();
  });
});

describe('console setting', () => {
  it('console=false leaves no CloudFront, Cognito or CORS behind', () => {
    for (const type of [
      'AWS::CloudFront::Distribution',
      'AWS::Cognito::UserPool',
      'AWS::Cognito::IdentityPool',
      'Custom::CDKBucketDeployment',
    ])
      without.template.resourceCountIs(type, 0);
    without.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
    expect(Object.keys(without.template.toJSON().Outputs)).not.toContain('ConsoleUrl');
  });

  it('validates the console options', () => {
    expect(resolveStageSettings('prod').console).toEqual({ mfa: 'required', featurePlan: 'plus' });
    expect(
      resolveStageSettings('prod', { consoleDomainPrefix: 'acme-recordings' }).console?.domainPrefix,
    ).toBe('acme-recordings');
    for (const raw of [
      { consoleMfa: 'sometimes' },
      { consoleFeaturePlan: 'lite' },
      { consoleDomainPrefix: 'My_Prefix' },
      { consoleDomainPrefix: 'my-aws-console' },
      { console: 'false', consoleMfa: 'optional' },
    ]) {
      expect(() => resolveStageSettings('prod', raw), JSON.stringify(raw)).toThrow(SettingsError);
    }
  });
});
