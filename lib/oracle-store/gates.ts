import { compareCodePoints } from '../contracts/canonical-json.ts';
import { sha256Hex, sha256OfConcat } from './digest.ts';
import {
  type Catalogue,
  ENGINE_CATALOGUE,
  ENGINE_GATE_MAP,
  type GateDefinition,
  type GateMap,
  type VerificationMethod,
} from './interface-pack.ts';
import type { ObjectReader } from './object-store.ts';
import { readJsonBytes } from './pack-contracts.ts';
import type { GateStatus } from './reason-codes.ts';
import { joinKey, renderTemplate } from './templates.ts';

/**
 * Gate verification by the hash laws of engine_gates.map.yaml (control-ingress.md §1.4, "SR's verification
 * law"). Pure functions compute digests from bytes; `verifyGate` fetches the bytes through the ObjectReader.
 */

/** Gates are fingerprint-scoped: their templates use only `{manifest_fingerprint}`. */
export interface GateTokens {
  manifest_fingerprint: string;
}

export interface GatePaths {
  passed_flag: string;
  bundle_root: string;
  index: string | undefined;
}

export interface GateResult {
  gate_id: string;
  status: GateStatus;
  /** The digest the flag states (undefined when the flag is absent or unparseable). */
  expected: string | undefined;
  /** The digest the hash law gives (undefined when inputs are missing). */
  actual: string | undefined;
  /** One line, starting with the gate id. */
  detail: string;
  paths: GatePaths | undefined;
  /** Store keys the law needed and did not find (flag, index, listed files). */
  missing: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Required gate set
// ---------------------------------------------------------------------------------------------------------

/**
 * Gates authorizing any of `outputIds` ∪ each output's `read_requires_gates`, closed over
 * `upstream_gate_dependencies`; sorted. Unknown outputs add nothing (the caller reports them).
 */
export function requiredGateSet(
  outputIds: readonly string[],
  refs: { gateMap?: GateMap; catalogue?: Catalogue } = {},
): string[] {
  const gateMap = refs.gateMap ?? ENGINE_GATE_MAP;
  const catalogue = refs.catalogue ?? ENGINE_CATALOGUE;
  const required = new Set<string>();
  for (const gate of gateMap.gates) {
    if (gate.authorizes_outputs.some((id) => outputIds.includes(id))) required.add(gate.gate_id);
  }
  for (const id of outputIds)
    for (const gateId of catalogue.byId.get(id)?.read_requires_gates ?? []) required.add(gateId);
  const pending = [...required];
  for (let gateId = pending.pop(); gateId !== undefined; gateId = pending.pop()) {
    for (const dep of gateMap.byId.get(gateId)?.upstream_gate_dependencies ?? []) {
      if (!required.has(dep)) {
        required.add(dep);
        pending.push(dep);
      }
    }
  }
  return [...required].sort(compareCodePoints);
}

// ---------------------------------------------------------------------------------------------------------
// Flag parsing
// ---------------------------------------------------------------------------------------------------------

export type ParsedFlag = { ok: true; digest: string } | { ok: false; reason: string };

/**
 * `_passed.flag`: JSON (`{` first) → `[digest_field]`; else `key = value` split at the first `=`, the trimmed
 * key must equal `digest_field`, the trimmed value is the digest; else unparseable.
 */
export function parsePassedFlag(text: string, digestField: string): ParsedFlag {
  const content = text.trim();
  if (!content) return { ok: false, reason: 'flag is empty' };
  if (content.startsWith('{')) {
    const parsed = readJsonBytes(new TextEncoder().encode(content));
    if (!parsed.ok) return { ok: false, reason: `flag is not JSON: ${parsed.error}` };
    const value = isRecord(parsed.value) ? parsed.value[digestField] : undefined;
    if (typeof value !== 'string' || !value)
      return { ok: false, reason: `flag JSON has no string '${digestField}'` };
    return { ok: true, digest: value };
  }
  const eq = content.indexOf('=');
  if (eq < 0) return { ok: false, reason: 'flag is neither JSON nor key = value' };
  const key = content.slice(0, eq).trim();
  if (key !== digestField) return { ok: false, reason: `flag key '${key}' is not '${digestField}'` };
  return { ok: true, digest: content.slice(eq + 1).trim() };
}

// ---------------------------------------------------------------------------------------------------------
// Hash laws (pure)
// ---------------------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** The first non-empty list among `keys` (Python `a or b or …`), or a top-level array; else []. */
function indexItems(index: unknown, keys: readonly string[]): unknown[] {
  if (Array.isArray(index)) return index;
  if (!isRecord(index)) return [];
  for (const key of keys) {
    const items = index[key];
    if (Array.isArray(items) && items.length > 0) return items;
  }
  return [];
}

/**
 * `sha256_index_json_ascii_lex_raw_bytes`, step one: the `path`s of `items|members|entries|files` (or a
 * top-level array), minus those whose value or basename is excluded, sorted by code point for `ascii_lex`.
 */
export function indexListedPaths(
  index: unknown,
  method: Pick<VerificationMethod, 'ordering' | 'exclude_filenames'>,
) {
  const exclude = new Set(method.exclude_filenames);
  const paths: string[] = [];
  for (const item of indexItems(index, ['items', 'members', 'entries', 'files'])) {
    const p = isRecord(item) ? item.path : undefined;
    if (typeof p !== 'string' || !p) continue;
    if (exclude.has(p) || exclude.has(basename(p))) continue;
    paths.push(p);
  }
  return method.ordering === 'ascii_lex' ? paths.sort(compareCodePoints) : paths;
}

/** `sha256_member_digest_concat` (3A): sha256 of the UTF-8 concatenation of members' digest fields, in order. */
export function memberDigestConcat(index: unknown, digestField: string): string {
  const parts: string[] = [];
  for (const item of indexItems(index, ['members', 'items'])) {
    const value = isRecord(item) ? item[digestField] : undefined;
    if (typeof value === 'string' && value) parts.push(value);
  }
  return sha256Hex(parts.join(''));
}

/**
 * `sha256_bundle_digest` (1A/1B), step one: every key under the bundle root whose basename is not excluded,
 * sorted by the path relative to the bundle root for `ascii_lex` (else in listing order).
 */
export function bundleMemberKeys(
  keys: readonly string[],
  bundleRoot: string,
  method: Pick<VerificationMethod, 'ordering' | 'exclude_filenames'>,
): string[] {
  const exclude = new Set(method.exclude_filenames);
  const members = keys.filter((k) => k.startsWith(bundleRoot) && !exclude.has(basename(k)));
  return method.ordering === 'ascii_lex'
    ? members.sort((a, b) => compareCodePoints(a.slice(bundleRoot.length), b.slice(bundleRoot.length)))
    : members;
}

// ---------------------------------------------------------------------------------------------------------
// Verification through the store
// ---------------------------------------------------------------------------------------------------------

/** Rendered flag, bundle root (always ending in '/') and index keys, or the placeholders left unrendered. */
export function gatePaths(
  gate: GateDefinition,
  tokens: GateTokens,
): { paths: GatePaths } | { unrendered: string[] } {
  const values = { manifest_fingerprint: tokens.manifest_fingerprint };
  const flag = renderTemplate(gate.passed_flag_path_template, values);
  const bundle = renderTemplate(gate.bundle_root_template, values);
  const index = gate.index_path_template ? renderTemplate(gate.index_path_template, values) : undefined;
  const unrendered = [...flag.missing, ...bundle.missing, ...(index?.missing ?? [])];
  if (unrendered.length > 0) return { unrendered: [...new Set(unrendered)] };
  const bundleRoot = bundle.path.endsWith('/') ? bundle.path : `${bundle.path}/`;
  return { paths: { passed_flag: flag.path, bundle_root: bundleRoot, index: index?.path } };
}

interface Outcome {
  status: GateStatus;
  expected?: string;
  actual?: string;
  missing?: string[];
  why: string;
}

/** Verifies one gate at the store root by its hash law. Never throws for absent or malformed artifacts. */
export async function verifyGate(
  store: ObjectReader,
  gate: GateDefinition,
  tokens: GateTokens,
): Promise<GateResult> {
  const rendered = gatePaths(gate, tokens);
  if ('unrendered' in rendered) {
    return result(gate, undefined, {
      status: 'MISSING',
      why: `template tokens not supplied: ${rendered.unrendered.join(', ')}`,
    });
  }
  return result(gate, rendered.paths, await verifyAt(store, gate, rendered.paths));
}

function result(gate: GateDefinition, paths: GatePaths | undefined, o: Outcome): GateResult {
  return {
    gate_id: gate.gate_id,
    status: o.status,
    expected: o.expected,
    actual: o.actual,
    detail: `${gate.gate_id}: ${o.status} (${o.why})`,
    paths,
    missing: o.missing ?? [],
  };
}

async function verifyAt(store: ObjectReader, gate: GateDefinition, paths: GatePaths): Promise<Outcome> {
  const method = gate.verification_method;
  const flagBytes = await store.get(paths.passed_flag);
  if (flagBytes === undefined) {
    return {
      status: 'MISSING',
      missing: [paths.passed_flag],
      why: `passed flag absent: ${paths.passed_flag}`,
    };
  }
  const bundleKeys = (await store.list(paths.bundle_root)).map((o) => o.key);
  if (bundleKeys.length === 0) {
    return {
      status: 'MISSING',
      missing: [paths.bundle_root],
      why: `bundle root empty: ${paths.bundle_root}`,
    };
  }
  let flagText: string;
  try {
    flagText = new TextDecoder('utf-8', { fatal: true }).decode(flagBytes);
  } catch {
    return { status: 'CONFLICT', why: 'passed flag is not UTF-8' };
  }
  const flag = parsePassedFlag(flagText, method.digest_field);
  if (!flag.ok) return { status: 'CONFLICT', why: flag.reason };

  const law = await actualDigest(store, method, paths, bundleKeys);
  if ('missing' in law)
    return { status: 'MISSING', expected: flag.digest, missing: law.missing, why: law.why };
  if ('conflict' in law) return { status: 'CONFLICT', expected: flag.digest, why: law.conflict };
  if (law.actual !== flag.digest) {
    return {
      status: 'FAIL',
      expected: flag.digest,
      actual: law.actual,
      why: `${method.kind} digest ${law.actual} differs from the flag's ${flag.digest}`,
    };
  }
  return { status: 'PASS', expected: flag.digest, actual: law.actual, why: method.kind };
}

type LawOutcome = { actual: string } | { missing: string[]; why: string } | { conflict: string };

async function readIndex(
  store: ObjectReader,
  paths: GatePaths,
): Promise<{ index: unknown } | Exclude<LawOutcome, { actual: string }>> {
  if (!paths.index) return { conflict: 'gate has no index_path_template' };
  const bytes = await store.get(paths.index);
  if (bytes === undefined) return { missing: [paths.index], why: `index absent: ${paths.index}` };
  const parsed = readJsonBytes(bytes);
  if (!parsed.ok) return { conflict: `index is not JSON: ${parsed.error}` };
  return { index: parsed.value };
}

async function actualDigest(
  store: ObjectReader,
  method: VerificationMethod,
  paths: GatePaths,
  bundleKeys: readonly string[],
): Promise<LawOutcome> {
  switch (method.kind) {
    case 'sha256_member_digest_concat': {
      const read = await readIndex(store, paths);
      return 'index' in read ? { actual: memberDigestConcat(read.index, method.digest_field) } : read;
    }
    case 'sha256_index_json_ascii_lex_raw_bytes': {
      const read = await readIndex(store, paths);
      if (!('index' in read)) return read;
      const base = method.path_base === 'run_root' ? '' : paths.bundle_root;
      return hashFiles(
        store,
        indexListedPaths(read.index, method).map((p) => ({ listed: p, key: joinKey(base, p) })),
      );
    }
    case 'sha256_bundle_digest':
      return hashFiles(
        store,
        bundleMemberKeys(bundleKeys, paths.bundle_root, method).map((key) => ({ listed: key, key })),
      );
  }
}

/** sha256 over the files' bytes in the given order; every absent or unresolvable file is reported. */
async function hashFiles(
  store: ObjectReader,
  files: { listed: string; key: string | undefined }[],
): Promise<LawOutcome> {
  const bodies: Uint8Array[] = [];
  const missing: string[] = [];
  for (const file of files) {
    const bytes = file.key === undefined ? undefined : await store.get(file.key);
    if (bytes === undefined) missing.push(file.key ?? file.listed);
    else bodies.push(bytes);
  }
  if (missing.length > 0) return { missing, why: `bundle files absent: ${missing.join(', ')}` };
  return { actual: sha256OfConcat(bodies) };
}

/** Verifies each gate id; ids not in the map come back MISSING. */
export async function verifyGates(
  store: ObjectReader,
  gateIds: readonly string[],
  tokens: GateTokens,
  gateMap: GateMap = ENGINE_GATE_MAP,
): Promise<GateResult[]> {
  const results: GateResult[] = [];
  for (const gateId of gateIds) {
    const gate = gateMap.byId.get(gateId);
    results.push(
      gate
        ? await verifyGate(store, gate, tokens)
        : {
            gate_id: gateId,
            status: 'MISSING',
            expected: undefined,
            actual: undefined,
            detail: `${gateId}: MISSING (not in the gate map)`,
            paths: undefined,
            missing: [],
          },
    );
  }
  return results;
}
