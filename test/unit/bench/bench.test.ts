import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../../bench/args.ts';
import { layoutOf, packagedFunctions, resolveValue } from '../../../bench/package-layout.ts';
import { median, percentile, resultFile } from '../../../bench/report.ts';
import { runScript } from '../../support/cli.ts';

describe('npm run bench: flags', () => {
  it('no name and no --smoke runs local-cloud (and lists the benches)', () => {
    expect(parseBenchArgs([])).toEqual({
      names: ['local-cloud'],
      smoke: false,
      help: false,
      defaulted: true,
    });
  });

  it('--smoke alone runs every bench; with names, those in the given order, once each', () => {
    expect(parseBenchArgs(['--smoke']).names).toEqual([
      'local-cloud',
      'esm',
      'ingest',
      'sort',
      'cold-start',
      'rtdl',
      'decision',
    ]);
    expect(parseBenchArgs(['sort', 'esm', 'sort', '--smoke'])).toMatchObject({
      names: ['sort', 'esm'],
      smoke: true,
      defaulted: false,
    });
  });

  it.each([
    [['fast'], 'unknown bench "fast"; benches: local-cloud, esm, ingest, sort, cold-start, rtdl, decision'],
    [['--nope'], "Unknown option '--nope'"],
    [['--smoke=yes'], "Option '--smoke' does not take an argument"],
  ])('%j is refused with a usage error: %s', (args, reason) => {
    expect(() => parseBenchArgs(args)).toThrow(reason);
    try {
      parseBenchArgs(args);
    } catch (error) {
      expect((error as Error).name).toBe('USAGE');
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('the command refuses a bad flag in one line, exit 2, before anything starts', {
    timeout: 60_000,
  }, async () => {
    const r = await runScript('bench/run.ts', ['esm', '--fast']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining("bench: Unknown option '--fast'")]);
    expect(r.stdout).toBe('');
  });
});

describe('bench figures', () => {
  it('percentile by nearest rank and median', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('a smoke run writes its own file, never over the full-size one', () => {
    expect(resultFile('esm', false)).toBe('bench/results/esm.json');
    expect(resultFile('esm', true)).toBe('bench/results/esm.smoke.json');
  });
});

/** A template as `sls package` writes it, with one zip per function or one zip shared by all. */
function template(zipOf: (fn: string) => string) {
  const fn = (name: string, handler: string, extra: Record<string, unknown> = {}) => ({
    Type: 'AWS::Lambda::Function',
    Properties: {
      FunctionName: `fraud-platform-dev-${name}`,
      Handler: handler,
      Code: {
        S3Bucket: { Ref: 'ServerlessDeploymentBucket' },
        S3Key: `serverless/fraud-platform/dev/1-x/${zipOf(name)}`,
      },
      Environment: {
        Variables: {
          STAGE: 'dev',
          PLATFORM_BUCKET: { Ref: 'PlatformBucket' },
          IG_URL: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
          MACHINE: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
            'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:x',
          },
          STREAM: { 'Fn::GetAtt': ['Bus', 'Arn'] },
        },
      },
      ...extra,
    },
  });
  return {
    Resources: {
      PlatformBucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'fraud-platform-dev' } },
      Bus: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'fp.bus' } },
      HttpApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'api' } },
      DuckdbLambdaLayer: {
        Type: 'AWS::Lambda::LayerVersion',
        Properties: { Content: { S3Key: 'serverless/fraud-platform/dev/1-x/duckdb.zip' } },
      },
      IngestionDashgateDashapiLambdaFunction: fn(
        'ingestion-gate-api',
        'functions/ingestion-gate/api.handler',
      ),
      StreamingDashactiveLambdaFunction: fn('streaming-active', 'functions/run-lifecycle/streaming.active'),
      OracleDashstreamDashplanLambdaFunction: fn(
        'oracle-stream-plan',
        'functions/oracle-store/stream-plan.handler',
        {
          Layers: [{ Ref: 'DuckdbLambdaLayer' }, 'arn:aws:lambda:us-east-1:1:layer:other:1'],
        },
      ),
    },
  };
}

describe('the package layout (cold-start)', () => {
  it('reads a zip per function: key, handler module and export, layer zips, environment stand-ins', () => {
    const fns = packagedFunctions(
      template((name) => `${name}.zip`),
      'fraud-platform',
      'dev',
    );
    expect(layoutOf(fns)).toBe('per-function');
    expect(fns.map((f) => [f.key, f.zip, f.module, f.exportName])).toEqual([
      ['ingestion-gate-api', 'ingestion-gate-api.zip', 'functions/ingestion-gate/api', 'handler'],
      ['oracle-stream-plan', 'oracle-stream-plan.zip', 'functions/oracle-store/stream-plan', 'handler'],
      ['streaming-active', 'streaming-active.zip', 'functions/run-lifecycle/streaming', 'active'],
    ]);
    const plan = fns.find((f) => f.key === 'oracle-stream-plan');
    expect(plan?.layerZips).toEqual(['duckdb.zip']);
    expect(plan?.externalLayers).toHaveLength(1);
    expect(fns[0]?.layerZips).toEqual([]);
    expect(fns[0]?.environment).toEqual({
      STAGE: 'dev',
      PLATFORM_BUCKET: 'fraud-platform-dev',
      IG_URL: 'https://httpapi.execute-api.us-east-1.amazonaws.com',
      MACHINE: 'arn:aws:states:us-east-1:123456789012:stateMachine:x',
      STREAM: 'arn:aws:kinesis:us-east-1:123456789012:stream/fp.bus',
    });
  });

  it('reads one zip shared by every function alike', () => {
    const fns = packagedFunctions(
      template(() => 'fraud-platform.zip'),
      'fraud-platform',
      'dev',
    );
    expect(layoutOf(fns)).toBe('shared');
    expect(new Set(fns.map((f) => f.zip))).toEqual(new Set(['fraud-platform.zip']));
    expect(fns.map((f) => f.key)).toEqual(['ingestion-gate-api', 'oracle-stream-plan', 'streaming-active']);
  });

  it('stands in for Join and for an unknown intrinsic', () => {
    expect(resolveValue({ 'Fn::Join': ['-', ['a', { Ref: 'AWS::Region' }]] }, {})).toBe('a-us-east-1');
    expect(resolveValue({ 'Fn::ImportValue': 'x' }, {})).toBe('bench-placeholder');
  });
});
