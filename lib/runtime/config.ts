import { z } from 'zod';
import { ConfigInvalid } from '../errors/platform-error.ts';

/** A configuration value failed to parse; the message names the key (reason code CONFIG_INVALID). */
export class ConfigError extends ConfigInvalid {}

/** Parses `source` with `schema` once; any failure names every offending key in one line. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  source: Record<string, unknown>,
  what = 'configuration',
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new ConfigError(`invalid ${what}: ${problems.join('; ')}`);
}

/** An empty environment value means "not set" (serverless.yml writes '' for stage-specific keys). */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const optionalUrl = optionalText.pipe(z.url().optional());

export const Stage = z.enum(['local', 'localstack', 'dev', 'prod']);
export type Stage = z.infer<typeof Stage>;

export const LogLevel = z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']);

/** The environment every Lambda of the platform is deployed with (serverless.yml provider.environment). */
export const PlatformEnvironment = z
  .object({
    STAGE: Stage,
    SERVICE_NAME: z.string().min(1).default('fraud-platform'),
    AWS_REGION: z.string().min(1).default('us-east-1'),
    LOG_LEVEL: LogLevel.default('INFO'),
    ORACLE_STORE_BUCKET: z.string().min(3),
    PLATFORM_BUCKET: z.string().min(3),
    REQUIRED_STREAMS: z
      .string()
      .transform((csv) =>
        csv
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1, 'must name at least one stream (comma-separated)')),
    /** Prefix of every Kinesis stream name on this stage (`fraud-platform-dev-`; empty locally). Topics stay unprefixed. */
    BUS_STREAM_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9_.-]*$/, 'only [a-zA-Z0-9_.-]')
      .max(64)
      .default(''),
    DATABASE_URL: optionalText,
    DATABASE_URL_SSM_PARAMETER: optionalText,
    S3_ENDPOINT: optionalUrl,
    KINESIS_ENDPOINT: optionalUrl,
    SFN_ENDPOINT: optionalUrl,
    LAMBDA_ENDPOINT: optionalUrl,
    /**
     * The runtime's access key id (the role's). Used only with the endpoints above: under the local cloud it names
     * the function's role, which the local services enforce (docs/local-cloud.md).
     */
    AWS_ACCESS_KEY_ID: optionalText,
    /** Set by LocalStack inside its Lambda containers; the endpoint of every service not named above. */
    AWS_ENDPOINT_URL: optionalUrl,
    LOCALSTACK_HOSTNAME: optionalText.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9.-]+$/)
        .optional(),
    ),
    EDGE_PORT: z.coerce.number().int().min(1).max(65_535).default(4566),
  })
  .refine((env) => Boolean(env.DATABASE_URL?.trim()) || Boolean(env.DATABASE_URL_SSM_PARAMETER?.trim()), {
    path: ['DATABASE_URL'],
    message: 'set DATABASE_URL or DATABASE_URL_SSM_PARAMETER',
    // checked even when other keys are wrong, so one run names every problem
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  })
  .transform((env) => {
    // Stage localstack: functions run inside LocalStack, which tells them where its edge is.
    const edge =
      env.AWS_ENDPOINT_URL ??
      (env.LOCALSTACK_HOSTNAME ? `http://${env.LOCALSTACK_HOSTNAME}:${env.EDGE_PORT}` : undefined);
    if (env.STAGE !== 'localstack' || edge === undefined) return env;
    return {
      ...env,
      S3_ENDPOINT: env.S3_ENDPOINT ?? edge,
      KINESIS_ENDPOINT: env.KINESIS_ENDPOINT ?? edge,
      SFN_ENDPOINT: env.SFN_ENDPOINT ?? edge,
      LAMBDA_ENDPOINT: env.LAMBDA_ENDPOINT ?? edge,
    };
  });
export type PlatformEnvironment = z.infer<typeof PlatformEnvironment>;

let cached: PlatformEnvironment | undefined;

/** The platform environment, parsed once per process (Lambda cold start). */
export function platformEnvironment(source: Record<string, unknown> = process.env): PlatformEnvironment {
  cached ??= parseConfig(PlatformEnvironment, source, 'platform environment');
  return cached;
}
