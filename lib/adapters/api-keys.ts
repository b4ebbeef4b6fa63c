import type { ApiKey } from '../ingestion-gate/auth.ts';
import { parseApiKeys } from '../runtime/api-key-config.ts';
import type { AwsEndpoints } from './aws-clients.ts';
import { ssmSecrets } from './parameters.ts';

/**
 * The API keys a service accepts: the SSM SecureString named by `parameter` when set (AWS), else `plain` (the
 * local stage's parity keys); entries `principal=key` (parseApiKeys; a bare key takes the principal `bare`).
 * Read through Powertools Parameters (cached); a failed SSM read is retried on the next request.
 */
export function apiKeysLoader(
  endpoints: AwsEndpoints,
  plain: string,
  parameter: string | undefined,
  bare: string | undefined,
): () => Promise<readonly ApiKey[]> {
  const secrets = ssmSecrets(endpoints);
  return async () => {
    const text = parameter ? ((await secrets(parameter)) ?? '') : plain;
    return parseApiKeys(text, bare, parameter ? `SSM ${parameter}` : 'the API keys');
  };
}
