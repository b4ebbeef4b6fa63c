import {
  type CfnResource,
  CfnTemplate,
  DEFAULT_LIMITS,
  defaultPseudo,
  type FunctionFacts,
  type LayerFacts,
  type ReadinessInput,
} from '../../../tools/deploy-readiness/model.ts';

/** Small hand-made inputs for the deploy-readiness rules. */

export function inputOf(
  resources: Record<string, CfnResource>,
  overrides: Partial<Omit<ReadinessInput, 'template'>> = {},
): ReadinessInput {
  const stage = overrides.stage ?? 'dev';
  return {
    template: CfnTemplate.parse({ Resources: resources }),
    functions: [],
    layers: [],
    stage,
    limits: DEFAULT_LIMITS,
    pseudo: defaultPseudo(stage, 'svc'),
    ...overrides,
  };
}

export function functionFacts(overrides: Partial<FunctionFacts> = {}): FunctionFacts {
  return {
    logicalId: 'ApiLambdaFunction',
    key: 'api',
    artifact: 'api.zip',
    artifactFound: true,
    handler: 'functions/plane/api.handler',
    handlerFile: 'functions/plane/api.cjs',
    zippedBytes: 200_000,
    unzippedBytes: 700_000,
    modulesInZip: [],
    layerIds: [],
    layerArns: [],
    bundle: { requires: [], optionalRequires: [], commands: [] },
    ...overrides,
  };
}

export function layerFacts(overrides: Partial<LayerFacts> = {}): LayerFacts {
  return {
    logicalId: 'DuckdbLambdaLayer',
    artifact: 'duckdb.zip',
    artifactFound: true,
    unzippedBytes: 70_000_000,
    modules: ['@duckdb/node-api'],
    ...overrides,
  };
}

/** A Lambda function resource running as `role`, as serverless writes it. */
export function lambdaFunction(properties: Record<string, unknown> = {}, role = 'ApiRole'): CfnResource {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Code: { S3Bucket: { Ref: 'ServerlessDeploymentBucket' }, S3Key: 'serverless/svc/dev/1/api.zip' },
      Handler: 'functions/plane/api.handler',
      Runtime: 'nodejs22.x',
      FunctionName: 'svc-dev-api',
      Role: { 'Fn::GetAtt': [role, 'Arn'] },
      ...properties,
    },
  };
}

/** An IAM role for Lambda whose one inline policy holds `statements`. */
export function roleWith(statements: unknown[]): CfnResource {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
        ],
      },
      Policies: [
        { PolicyName: 'svc-dev-lambda', PolicyDocument: { Version: '2012-10-17', Statement: statements } },
      ],
    },
  };
}
