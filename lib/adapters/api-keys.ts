import type { AwsEndpoints } from './aws-clients.ts';
import { ssmSecrets } from './parameters.ts';

/**
 * The API keys a service accepts: the SSM SecureString named by `parameter` when set (AWS), else `plain`
 * (the local stage's parity keys); comma or whitespace separated. Read through Powertools Parameters (cached);
 * a failed SSM read is retried on the next request.
 */
export function apiKeysLoader(
  endpoints: AwsEndpoints,
  plain: string,
  parameter: string | undefined,
): () => Promise<readonly string[]> {
  const secrets = ssmSecrets(endpoints);
  return async () => {
    const text = parameter ? ((await secrets(parameter)) ?? '') : plain;
    return text
      .split(/[\s,]+/)
      .map((k) => k.trim())
      .filter(Boolean);
  };
}
