import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { type AwsEndpoints, ssmClient } from './aws-clients.ts';

/**
 * The API keys a service accepts: the SSM SecureString named by `parameter` when set (AWS), else `plain`
 * (the local stage's parity keys); comma or whitespace separated. Read once per container; a failed SSM read is
 * retried on the next request.
 */
export function apiKeysLoader(
  endpoints: AwsEndpoints,
  plain: string,
  parameter: string | undefined,
): () => Promise<readonly string[]> {
  let keys: Promise<readonly string[]> | undefined;
  return () => {
    keys ??= (async () => {
      let text = plain;
      if (parameter) {
        const out = await ssmClient(endpoints).send(
          new GetParameterCommand({ Name: parameter, WithDecryption: true }),
        );
        text = out.Parameter?.Value ?? '';
      }
      return text
        .split(/[\s,]+/)
        .map((k) => k.trim())
        .filter(Boolean);
    })().catch((error) => {
      keys = undefined;
      throw error;
    });
    return keys;
  };
}
