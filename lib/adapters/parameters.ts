import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigInvalid } from '../errors/platform-error.ts';
import { type AwsEndpoints, ssmClient } from './aws-clients.ts';

/** How long a secret is reused before SSM is asked again (a rotated key is picked up within this). */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Secrets from SSM Parameter Store through Powertools Parameters (its cache, max age and force-fetch), on the SSM
 * client of the configured endpoints (local cloud, LocalStack, AWS). A provider of our own over Powertools'
 * BaseProvider rather than its SSMProvider: that one also carries GetParameters, GetParametersByPath and
 * PutParameter, and every command in a bundle must be granted to its role (tools/deploy-readiness) — a reader of
 * one SecureString sends GetParameter only. The client and the provider are made on the first read.
 */
export function ssmSecrets(endpoints: AwsEndpoints) {
  let provider: { get(name: string, options: { maxAge: number }): Promise<unknown> } | undefined;
  return async (name: string): Promise<string | undefined> => {
    provider ??= secureStringProvider(ssmClient(endpoints));
    return (await provider.get(name, { maxAge: SECRET_MAX_AGE_SECONDS })) as string | undefined;
  };
}
export type SsmSecrets = ReturnType<typeof ssmSecrets>;

/**
 * A configured secret: `plain` when set (the local stage's parity values), else the SSM SecureString `parameter`;
 * a parameter without a value is CONFIG_INVALID. A failed read is retried on the next call.
 */
export function configuredSecret(
  secrets: SsmSecrets,
  options: { plain?: string | undefined; parameter?: string | undefined; what: string },
): () => Promise<string> {
  return async () => {
    if (options.plain || !options.parameter) return options.plain ?? '';
    const value = (await secrets(options.parameter))?.trim();
    if (!value) throw new ConfigInvalid(`${options.what}: ${options.parameter} has no value`);
    return value;
  };
}

/** Declared in a function so that a bundle that never reads a secret holds none of it. */
function secureStringProvider(client: SSMClient) {
  class SecureStringProvider extends BaseProvider {
    constructor() {
      super({
        awsSdkV3Client: client,
        awsSdkV3ClientPrototype: SSMClient as new (config?: unknown) => SSMClient,
      });
    }

    protected async _get(name: string): Promise<string | undefined> {
      const out = await (this.client as SSMClient).send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      );
      return out.Parameter?.Value;
    }

    protected async _getMultiple(path: string): Promise<Record<string, unknown> | undefined> {
      throw new ConfigInvalid(`parameters by path (${path}) are not read here`);
    }
  }
  return new SecureStringProvider();
}
