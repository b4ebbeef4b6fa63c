import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../../lib/oracle-store/object-store.ts';

/**
 * Tiny engine worlds built by hand for the oracle-store tests. Paths, file contents, hashing order and
 * digests are written out here with node:crypto — never with the code under test — so the tests can fail.
 */

export const sha = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
export const shaConcat = (parts: readonly string[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

export const MF = sha('manifest_fingerprint of the test world');
export const PH = sha('parameter_hash of the test world');
export const RUN_ID = sha('engine run').slice(0, 32);
export const SEED = 42;
export const SCENARIO = 'baseline_v1';

export const SEGMENTS = ['1A', '1B', '2A', '2B', '3A', '3B', '5A', '5B', '6A', '6B'] as const;
export type Segment = (typeof SEGMENTS)[number];

const LAYER: Record<Segment, string> = {
  '1A': 'layer1',
  '1B': 'layer1',
  '2A': 'layer1',
  '2B': 'layer1',
  '3A': 'layer1',
  '3B': 'layer1',
  '5A': 'layer2',
  '5B': 'layer2',
  '6A': 'layer3',
  '6B': 'layer3',
};

export const gateId = (segment: Segment) => `gate.${LAYER[segment]}.${segment}.validation`;
export const bundleRoot = (segment: Segment, mf = MF) =>
  `data/${LAYER[segment]}/${segment}/validation/manifest_fingerprint=${mf}/`;
export const flagKey = (segment: Segment, mf = MF) => `${bundleRoot(segment, mf)}_passed.flag`;

export interface GateFixture {
  segment: Segment;
  /** Bundle files (relative to the bundle root), the flag excluded. */
  files: Record<string, string>;
  /** Files the index names relative to the engine run root (2B only). */
  runRootFiles: Record<string, string>;
  /** The contents, in the order the hash law concatenates them. */
  hashedInOrder: string[];
  /** The digest the flag states (the correct one). */
  digest: string;
  flag: string;
}

const textFlag = (digest: string) => `sha256_hex = ${digest}\n`;
const jsonFlag = (mf: string, digest: string) =>
  JSON.stringify({ manifest_fingerprint: mf, bundle_digest_sha256: digest });

function fixture(
  segment: Segment,
  files: Record<string, string>,
  hashedInOrder: string[],
  flag: (digest: string) => string,
  runRootFiles: Record<string, string> = {},
  digest = shaConcat(hashedInOrder),
): GateFixture {
  return { segment, files, runRootFiles, hashedInOrder, digest, flag: flag(digest) };
}

/** One gate's bundle, laid out and hashed as its hash law says (engine_gates.map.yaml). */
export function gateFixture(segment: Segment, mf = MF): GateFixture {
  switch (segment) {
    // sha256_bundle_digest: every file but _passed.flag, by relative path (index.json included).
    case '1A':
    case '1B': {
      const files = {
        'index.json': '{"files":["report.json","sub/detail.json"]}',
        'report.json': `{"segment":"${segment}","ok":true}`,
        'sub/detail.json': `detail of ${segment}`,
        'B_upper.txt': 'upper case sorts first',
      };
      const order = ['B_upper.txt', 'index.json', 'report.json', 'sub/detail.json'] as const;
      return fixture(
        segment,
        files,
        order.map((k) => files[k]),
        textFlag,
      );
    }
    // sha256_index_json_ascii_lex_raw_bytes over the bundle root; `_passed.flag` listed but excluded.
    case '2A':
    case '3B': {
      const files = {
        'index.json': JSON.stringify({
          items: [{ path: 'z.json' }, { path: 'a.json' }, { path: '_passed.flag' }],
        }),
        'z.json': `z of ${segment}`,
        'a.json': `a of ${segment}`,
      };
      return fixture(segment, files, [files['a.json'], files['z.json']], textFlag);
    }
    // path_base: run_root — index paths are relative to the engine run root.
    case '2B': {
      const alias = 'data/layer1/2B/s2_alias_blob/alias.bin';
      const audit = `${bundleRoot('2B', mf)}s7_audit_report.json`;
      const files = {
        'index.json': JSON.stringify({ items: [{ path: audit }, { path: alias }] }),
        's7_audit_report.json': 'audit report 2B',
      };
      return fixture('2B', files, ['alias bytes 2B', 'audit report 2B'], textFlag, {
        [alias]: 'alias bytes 2B',
      });
    }
    // sha256_member_digest_concat: sha256 of the members' digests joined in array order.
    case '3A': {
      const members = [sha('member two'), sha('member one')];
      const files = {
        'index.json': JSON.stringify({ members: members.map((d, i) => ({ id: `m${i}`, sha256_hex: d })) }),
      };
      return fixture('3A', files, members, textFlag, {}, sha(members.join('')));
    }
    // The index is validation_bundle_index_5A.json; JSON flag with bundle_digest_sha256.
    case '5A': {
      const files = {
        'validation_bundle_index_5A.json': JSON.stringify({
          entries: [{ path: 'validation_report_5A.json' }, { path: 'issues.parquet' }],
        }),
        'validation_report_5A.json': '{"status":"PASS"}',
        'issues.parquet': 'PAR1 issues 5A PAR1',
      };
      return fixture('5A', files, [files['issues.parquet'], files['validation_report_5A.json']], (d) =>
        jsonFlag(mf, d),
      );
    }
    // entries[{path, sha256_hex}]; JSON flag.
    case '5B': {
      const report = '{"report":"5B"}';
      const summary = '{"summary":"5B"}';
      const files = {
        'index.json': JSON.stringify({
          entries: [
            { path: 'validation_report_5B.json', sha256_hex: sha(report) },
            { path: 'arrival_summary.json', sha256_hex: sha(summary) },
          ],
        }),
        'validation_report_5B.json': report,
        'arrival_summary.json': summary,
      };
      return fixture('5B', files, [summary, report], (d) => jsonFlag(mf, d));
    }
    // ordering: index_order — no sort.
    case '6A': {
      const files = {
        'validation_bundle_index_6A.json': JSON.stringify({
          items: [{ path: 's5_validation_report_6A.json' }, { path: 'issues_6A.parquet' }],
        }),
        's5_validation_report_6A.json': 'report 6A',
        'issues_6A.parquet': 'PAR1 issues 6A PAR1',
      };
      return fixture(
        '6A',
        files,
        [files['s5_validation_report_6A.json'], files['issues_6A.parquet']],
        textFlag,
      );
    }
    // items[{path, sha256_hex, role}]; index.json excluded by name; text flag.
    case '6B': {
      const report = 'report 6B';
      const issues = 'PAR1 issues 6B PAR1';
      const files = {
        'index.json': JSON.stringify({
          manifest_fingerprint: mf,
          parameter_hash: PH,
          spec_version_6B: '1.0.0',
          items: [
            { path: 's5_validation_report_6B.json', sha256_hex: sha(report), role: 'report' },
            { path: 'index.json', sha256_hex: sha('self'), role: 'index' },
            { path: 'issues/s5_issue_table_6B.parquet', sha256_hex: sha(issues), role: 'issues' },
          ],
        }),
        's5_validation_report_6B.json': report,
        'issues/s5_issue_table_6B.parquet': issues,
      };
      return fixture('6B', files, [issues, report], textFlag);
    }
  }
}

export async function writeGate(
  store: ObjectStore,
  gate: GateFixture,
  mf = MF,
  withFlag = true,
): Promise<void> {
  const root = bundleRoot(gate.segment, mf);
  for (const [rel, body] of Object.entries(gate.files)) await store.put(`${root}${rel}`, body);
  for (const [key, body] of Object.entries(gate.runRootFiles)) await store.put(key, body);
  if (withFlag) await store.put(`${root}_passed.flag`, gate.flag);
}

export const PARQUET_BYTES = new Uint8Array([0x50, 0x41, 0x52, 0x31, 0, 1, 2, 3, 0x50, 0x41, 0x52, 0x31]);

/** Where a test world keeps one part of each output it writes (the catalogue templates, rendered by hand). */
export function outputPartKey(
  outputId: string,
  scenario = SCENARIO,
  world: { mf?: string; ph?: string; seed?: number | bigint } = {},
): string {
  const mf = world.mf ?? MF;
  const ph = world.ph ?? PH;
  const seed = world.seed ?? SEED;
  if (outputId === 'arrival_events_5B') {
    return `data/layer2/5B/arrival_events/seed=${seed}/manifest_fingerprint=${mf}/scenario_id=${scenario}/part-00000.parquet`;
  }
  return `data/layer3/6B/${outputId}/seed=${seed}/parameter_hash=${ph}/manifest_fingerprint=${mf}/scenario_id=${scenario}/part-00000.parquet`;
}

export const WORLD_OUTPUTS = [
  'arrival_events_5B',
  's1_arrival_entities_6B',
  's3_flow_anchor_with_fraud_6B',
  's3_event_stream_with_fraud_6B',
  's2_event_stream_baseline_6B',
] as const;

export interface WorldOptions {
  seed?: number | bigint;
  scenarios?: readonly string[];
  /** Segments whose `_passed.flag` is not written (their bundle is). */
  withoutFlags?: readonly Segment[];
  outputs?: readonly string[];
  runReceipt?: string;
}

/** A complete world: run_receipt.json, all ten gates, one part per output per scenario. */
export async function buildWorld(
  store: ObjectStore,
  options: WorldOptions = {},
): Promise<Record<Segment, GateFixture>> {
  const seed = options.seed ?? SEED;
  await store.put(
    'run_receipt.json',
    options.runReceipt ??
      `{"run_id": "${RUN_ID}", "manifest_fingerprint": "${MF}", "parameter_hash": "${PH}", "seed": ${seed}, "created_utc": "2026-01-01T00:00:00.000000Z"}\n`,
  );
  const gates = {} as Record<Segment, GateFixture>;
  for (const segment of SEGMENTS) {
    gates[segment] = gateFixture(segment);
    await writeGate(store, gates[segment], MF, !options.withoutFlags?.includes(segment));
  }
  for (const scenario of options.scenarios ?? [SCENARIO]) {
    for (const output of options.outputs ?? WORLD_OUTPUTS) {
      await store.put(outputPartKey(output, scenario, { seed }), PARQUET_BYTES);
    }
  }
  return gates;
}
