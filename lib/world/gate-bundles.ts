import type { JsonValue } from '../contracts/canonical-json.ts';
import { sha256Hex } from '../contracts/identity.ts';
import type { GateSegment } from './gate-map.ts';
import type { WorldIdentity } from './identity.ts';
import { renderTemplate } from './layout.ts';

/** What a written output looks like, for the 5B/6B validation reports. */
export interface OutputEvidence {
  readonly outputId: string;
  readonly directory: string;
  readonly parts: number;
  readonly rows: number;
  /** sha256 over the concatenated bytes of its part files, sorted by path (SR's content_digest). */
  readonly contentDigest: string;
}

/** What a gate's bundle is made from: the world's identity, its written outputs and a few facts. */
export interface GateWriteContext {
  readonly runRoot: string;
  readonly identity: WorldIdentity;
  readonly scenarioId: string;
  readonly outputs: readonly OutputEvidence[];
  /** Small facts about the world the upstream bundles report (entity counts, campaigns …). */
  readonly facts: Readonly<Record<string, JsonValue>>;
}

/** The small JSON files each gate's validation bundle holds (real bytes for the digests to cover). */
/** One bundle member: `name` relative to the bundle root, or to the run root when `fromRunRoot`. */
export interface Member {
  readonly name: string;
  readonly body: JsonValue;
  readonly role: string;
  readonly fromRunRoot?: boolean;
}

function report(segment: GateSegment, ctx: GateWriteContext, metrics: JsonValue): JsonValue {
  return {
    segment,
    manifest_fingerprint: ctx.identity.manifestFingerprint,
    parameter_hash: ctx.identity.parameterHash,
    spec_version: '1.0.0',
    overall_status: 'PASS',
    checks: [
      { check_id: `${segment}.SYNTHETIC_WORLD_CONSISTENT`, severity: 'REQUIRED', result: 'PASS', metrics },
    ],
  };
}

function evidenceOf(ctx: GateWriteContext, prefix: string): JsonValue {
  return ctx.outputs
    .filter((o) => o.outputId.endsWith(prefix))
    .map((o) => ({
      output_id: o.outputId,
      path: o.directory,
      parts: o.parts,
      rows: o.rows,
      content_digest: { algo: 'sha256', hex: o.contentDigest },
    }));
}

/** The small but real files each segment's bundle holds. */
export function membersOf(segment: GateSegment, ctx: GateWriteContext): Member[] {
  const id = ctx.identity;
  const keys = { manifest_fingerprint: id.manifestFingerprint, parameter_hash: id.parameterHash };
  const facts = ctx.facts;
  switch (segment) {
    case '1A':
      return [
        { name: 'MANIFEST.json', role: 'manifest', body: { ...keys, run_id: id.runId, segment } },
        {
          name: 'parameter_hash_resolved.json',
          role: 'report',
          body: { parameter_hash: id.parameterHash, artifact_count: 0 },
        },
        {
          name: 'manifest_fingerprint_resolved.json',
          role: 'report',
          body: {
            ...keys,
            artifact_count: 0,
            git_commit_hex: sha256Hex(`git|${id.manifestFingerprint}`).slice(0, 40),
          },
        },
      ];
    case '1B':
      return [
        { name: 'MANIFEST.json', role: 'manifest', body: { ...keys, run_id: id.runId, segment } },
        {
          name: 's9_summary_1B.json',
          role: 'report',
          body: report(segment, ctx, { merchants: facts.merchants ?? 0 }),
        },
      ];
    case '2A':
      return [
        {
          name: 'validation_report_2A.json',
          role: 'report',
          body: report(segment, ctx, { tzids: facts.tzids ?? [] }),
        },
        {
          name: 's4_legality_report.json',
          role: 'report',
          body: { ...keys, status: 'PASS', illegal_local_times: 0 },
        },
      ];
    case '2B':
      return [
        {
          name: 'validation_report_2B.json',
          role: 'report',
          body: report(segment, ctx, { sites: facts.sites ?? 0 }),
        },
        {
          // 2B's index paths resolve from the run root; this member lives outside the bundle folder.
          name: renderTemplate(
            'data/layer1/2B/s7_audit_report/seed={seed}/manifest_fingerprint={manifest_fingerprint}/s7_audit_report.json',
            {
              seed: id.seed.toString(),
              manifest_fingerprint: id.manifestFingerprint,
            },
          ),
          role: 'audit',
          body: { ...keys, seed: id.seed, status: 'PASS', alias_tables_checked: facts.merchants ?? 0 },
          fromRunRoot: true,
        },
      ];
    case '3A':
      return [
        {
          name: 's6_validation_report_3A.json',
          role: 'report',
          body: report(segment, ctx, { zones: facts.tzids ?? [] }),
        },
        {
          name: 'zone_alloc_universe_hash.json',
          role: 'digest',
          body: { ...keys, routing_universe_hash: facts.routing_universe_hash ?? '' },
        },
      ];
    case '3B':
      return [
        {
          name: 's5_manifest_3B.json',
          role: 'manifest',
          body: { ...keys, virtual_merchants: facts.virtual_merchants ?? 0 },
        },
        {
          name: 'validation_report_3B.json',
          role: 'report',
          body: report(segment, ctx, { edges: facts.virtual_merchants ?? 0 }),
        },
      ];
    case '5A':
      return [
        {
          name: 'scenario_manifest_5A.json',
          role: 'manifest',
          body: { ...keys, scenario_ids: [ctx.scenarioId], horizon: facts.horizon ?? null },
        },
        { name: 'validation_report_5A.json', role: 'report', body: report(segment, ctx, { scenarios: 1 }) },
      ];
    case '5B':
      return [
        {
          name: 's4_arrival_summary_5B.json',
          role: 'summary',
          body: { ...keys, scenario_id: ctx.scenarioId, arrivals: facts.arrivals ?? 0 },
        },
        {
          name: 'validation_report_5B.json',
          role: 'report',
          body: report(segment, ctx, evidenceOf(ctx, '_5B')),
        },
      ];
    case '6A':
      // Written out of ascii-lex order on purpose: 6A's law hashes in index order.
      return [
        {
          name: 's5_validation_report_6A.json',
          role: 'report',
          body: report(segment, ctx, { status: 'PASS' }),
        },
        {
          name: 's4_network_summary_6A.json',
          role: 'summary',
          body: { ...keys, devices: facts.devices ?? 0, ips: facts.ips ?? 0 },
        },
        {
          name: 's1_party_summary_6A.json',
          role: 'summary',
          body: { ...keys, parties: facts.parties ?? 0, accounts: facts.accounts ?? 0 },
        },
      ];
    case '6B':
      return [
        {
          name: 's3_campaign_summary_6B.json',
          role: 'summary',
          body: { ...keys, scenario_id: ctx.scenarioId, campaigns: facts.campaigns ?? [] },
        },
        {
          name: 's5_validation_report_6B.json',
          role: 'report',
          body: report(segment, ctx, evidenceOf(ctx, '_6B')),
        },
      ];
  }
}
