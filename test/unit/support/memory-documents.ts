import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import type { DocumentWriter } from '../../../lib/contracts/projector-report.ts';

/**
 * A DocumentWriter in memory: records key → document (as written, and as the canonical JSON the S3 adapter would
 * store, so a document canonical JSON cannot hold fails here too) and answers the `s3://` ref of the key.
 */
export function memoryDocuments(bucket = 'fraud-platform') {
  const documents = new Map<string, unknown>();
  const bodies = new Map<string, string>();
  const writer: DocumentWriter = {
    async write(key, document) {
      bodies.set(key, canonicalJson(document));
      documents.set(key, document);
      return `s3://${bucket}/${key}`;
    },
  };
  return {
    writer,
    documents,
    /** The document at `key` as a reader of the bucket sees it (canonical JSON, parsed back). */
    read: (key: string): Record<string, unknown> => JSON.parse(bodies.get(key) ?? 'null'),
  };
}
