import { z } from 'zod';
import { readJsonBytes } from '../oracle-store/pack-contracts.ts';
import {
  MANIFEST_FILE,
  RECEIPT_FILE,
  streamViewId,
  viewPrefix,
} from '../oracle-store/stream-sort/receipt.ts';
import type { EngineRunStore } from './ports.ts';
import type { StreamReasonCode } from './reason-codes.ts';

/** Stream-view checks before any row is read (control-ingress.md §4.3). */

/** The sort keys WSP expects a `ts_utc` view to record (§4.3). */
export const STREAM_VIEW_SORT_KEYS = ['ts_utc', 'filename', 'file_row_number'];

const ViewManifestFields = z.looseObject({
  stream_view_id: z.string().optional().nullable(),
  output_id: z.string().optional().nullable(),
});
const ViewReceiptFields = z.looseObject({ status: z.string().optional().nullable() });

export type ViewCheck =
  | { ok: true; parts: string[] }
  | { ok: false; reason: StreamReasonCode; detail: string };

async function readObject(store: EngineRunStore, key: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await store.get(key);
  if (bytes === undefined) return undefined;
  const read = readJsonBytes(bytes);
  return read.ok && read.value !== null && typeof read.value === 'object' && !Array.isArray(read.value)
    ? (read.value as Record<string, unknown>)
    : undefined;
}

/**
 * §4.3: manifest and receipt exist (`STREAM_VIEW_MISSING`), receipt status OK/absent/"" (`STREAM_VIEW_RECEIPT_BAD`),
 * a stated `stream_view_id` equals the one computed for this root and scenario (`STREAM_VIEW_ID_MISMATCH`), a stated
 * `output_id` matches (`STREAM_VIEW_OUTPUT_MISMATCH`), and at least one `*.parquet` part (`STREAM_VIEW_EMPTY`).
 */
export async function checkStreamView(
  store: EngineRunStore,
  scenarioId: string,
  outputId: string,
): Promise<ViewCheck> {
  const prefix = viewPrefix(outputId);
  const manifestRaw = await readObject(store, `${prefix}${MANIFEST_FILE}`);
  const receiptRaw = await readObject(store, `${prefix}${RECEIPT_FILE}`);
  if (manifestRaw === undefined || receiptRaw === undefined) {
    return { ok: false, reason: 'STREAM_VIEW_MISSING', detail: outputId };
  }
  const receipt = ViewReceiptFields.safeParse(receiptRaw);
  const status = receipt.success ? receipt.data.status : 'unparseable';
  if (!(status === undefined || status === null || status === '' || status === 'OK')) {
    return { ok: false, reason: 'STREAM_VIEW_RECEIPT_BAD', detail: `${outputId}: status ${status}` };
  }
  const manifest = ViewManifestFields.safeParse(manifestRaw);
  const stated = manifest.success ? manifest.data : { stream_view_id: undefined, output_id: undefined };
  const expectedId = streamViewId(store.root, scenarioId, outputId, STREAM_VIEW_SORT_KEYS);
  if (stated.stream_view_id && stated.stream_view_id !== expectedId) {
    return { ok: false, reason: 'STREAM_VIEW_ID_MISMATCH', detail: outputId };
  }
  if (stated.output_id && stated.output_id !== outputId) {
    return { ok: false, reason: 'STREAM_VIEW_OUTPUT_MISMATCH', detail: outputId };
  }
  const parts = (await store.list(prefix)).map((o) => o.key).filter((key) => key.endsWith('.parquet'));
  if (parts.length === 0) return { ok: false, reason: 'STREAM_VIEW_EMPTY', detail: outputId };
  return { ok: true, parts: parts.sort() };
}
