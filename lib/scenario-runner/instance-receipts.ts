import { type EngineOutputLocator, InstanceProofReceipt } from '../contracts/ready.ts';
import type { CatalogueOutput } from '../oracle-store/interface-pack.ts';
import type { RunReasonCode } from './reason-codes.ts';
import { type RunLedger, without } from './run-ledger.ts';

/**
 * Instance proof receipts (control-ingress.md §3.5): SR's own proof that an instance-scoped output exists with
 * a given content digest, written once under `sr/instance_receipts/…`; a stored receipt that differs (the
 * optional `produced_at_utc` aside) is INSTANCE_RECEIPT_DRIFT.
 */

const INSTANCE_TOKENS = ['seed', 'scenario_id', 'parameter_hash', 'run_id'] as const;

/** A catalogue scope naming any of seed, scenario_id, parameter_hash or run_id (the reference's substring test). */
export function isInstanceScope(scope: string | undefined): boolean {
  return INSTANCE_TOKENS.some((token) => (scope ?? '').includes(token));
}

export type ScopeValue = string | number | bigint;

export type InstanceReceiptOutcome =
  | { ok: true; receipt: InstanceProofReceipt; created: boolean }
  | {
      ok: false;
      reason: Extract<
        RunReasonCode,
        | 'INSTANCE_DIGEST_MISSING'
        | 'INSTANCE_SCOPE_MISSING'
        | 'INSTANCE_RECEIPT_SCHEMA_INVALID'
        | 'INSTANCE_RECEIPT_DRIFT'
      >;
      detail: string;
    };

/**
 * Builds the receipt for `locator` (scope = manifest_fingerprint + the output's partitions, valued from
 * `tokens`) and writes it if absent.
 */
export async function ensureInstanceReceipt(
  ledger: RunLedger,
  output: CatalogueOutput,
  locator: EngineOutputLocator,
  tokens: Readonly<Record<string, ScopeValue | undefined>> & { manifest_fingerprint: string },
): Promise<InstanceReceiptOutcome> {
  const id = output.output_id;
  if (locator.content_digest === undefined)
    return { ok: false, reason: 'INSTANCE_DIGEST_MISSING', detail: id };
  const scope: Record<string, ScopeValue> = { manifest_fingerprint: tokens.manifest_fingerprint };
  const missing: string[] = [];
  for (const partition of output.partitions) {
    const value = tokens[partition];
    if (value === undefined) missing.push(partition);
    else scope[partition] = value;
  }
  if (missing.length > 0)
    return { ok: false, reason: 'INSTANCE_SCOPE_MISSING', detail: `${id}: ${missing.join(',')}` };
  const receiptPath = ledger.paths.instanceReceipt(id, scope);
  const parsed = InstanceProofReceipt.safeParse({
    output_id: id,
    status: 'PASS',
    scope,
    target_ref: locator,
    target_digest: locator.content_digest,
    receipt_kind: 'instance_proof',
    artifacts: { receipt_path: receiptPath },
  });
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(',');
    return { ok: false, reason: 'INSTANCE_RECEIPT_SCHEMA_INVALID', detail: `${id}: ${fields}` };
  }
  const written = await ledger.writeOnce(receiptPath, parsed.data, (v) => without(v, 'produced_at_utc'));
  if (written.outcome === 'different')
    return { ok: false, reason: 'INSTANCE_RECEIPT_DRIFT', detail: receiptPath };
  return { ok: true, receipt: parsed.data, created: written.outcome === 'created' };
}
