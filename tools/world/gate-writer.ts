import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalJson, type JsonValue, jsonFileBytes } from '../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../lib/contracts/identity.ts';
import { type GateWriteContext, membersOf } from '../../lib/world/gate-bundles.ts';
import { GATE_MAP, type GateDefinition, type GateSegment } from '../../lib/world/gate-map.ts';
import { gateDigestFor, parsePassedFlag } from '../../lib/world/gates.ts';
import { renderTemplate } from '../../lib/world/layout.ts';
import { directoryGateSource } from './gate-files.ts';

export interface WrittenGate {
  readonly gateId: string;
  readonly segment: GateSegment;
  readonly digest: string;
  readonly bundleRoot: string;
  readonly indexPath: string;
  readonly passedFlagPath: string;
}

function indexDocument(gate: GateDefinition, ctx: GateWriteContext, entries: JsonValue[]): JsonValue {
  const id = ctx.identity;
  switch (gate.segment) {
    case '2B':
      return { items: entries };
    case '3A':
      return { manifest_fingerprint: id.manifestFingerprint, members: entries };
    case '3B':
      return { members: entries };
    case '5A':
    case '5B':
      return { entries };
    case '6A':
      return {
        manifest_fingerprint: id.manifestFingerprint,
        parameter_hash: id.parameterHash,
        spec_version_6A: '1.0.0',
        items: entries,
      };
    case '6B':
      return {
        manifest_fingerprint: id.manifestFingerprint,
        parameter_hash: id.parameterHash,
        spec_version_6B: '1.0.0',
        items: entries,
      };
    default:
      return { files: entries };
  }
}

function flagText(gate: GateDefinition, ctx: GateWriteContext, digest: string): string {
  const field = gate.verification_method.digest_field;
  if (field === 'bundle_digest_sha256') {
    return `${canonicalJson({ manifest_fingerprint: ctx.identity.manifestFingerprint, [field]: digest })}\n`;
  }
  return `${field} = ${digest}\n`;
}

async function put(path: string, bytes: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/** Writes one gate: members, index, then a `_passed.flag` holding what the gate's own law computes. */
async function writeGate(gate: GateDefinition, ctx: GateWriteContext): Promise<WrittenGate> {
  const tokens = { manifest_fingerprint: ctx.identity.manifestFingerprint };
  const bundleRoot = renderTemplate(gate.bundle_root_template, tokens);
  const indexPath = renderTemplate(gate.index_path_template, tokens);
  const passedFlagPath = renderTemplate(gate.passed_flag_path_template, tokens);
  const entries: JsonValue[] = [];
  for (const member of membersOf(gate.segment, ctx)) {
    const bytes = jsonFileBytes(member.body);
    const fromRunRoot = member.fromRunRoot === true;
    await put(join(ctx.runRoot, fromRunRoot ? '' : bundleRoot, member.name), bytes);
    // With path_base run_root every listed path is run-root relative, inside the bundle folder or not.
    const listed =
      gate.verification_method.path_base === 'run_root' && !fromRunRoot
        ? `${bundleRoot}${member.name}`
        : member.name;
    const entry: Record<string, JsonValue> = { path: listed, sha256_hex: sha256Hex(bytes) };
    if (gate.segment === '6A' || gate.segment === '6B') {
      entry.role = member.role;
      entry.schema_ref = null;
    }
    entries.push(entry);
  }
  const index = indexDocument(gate, ctx, entries);
  await put(join(ctx.runRoot, indexPath), jsonFileBytes(index));
  const digest = await gateDigestFor(
    gate.verification_method,
    index,
    directoryGateSource(ctx.runRoot, bundleRoot),
  );
  const flag = flagText(gate, ctx, digest);
  if (parsePassedFlag(flag, gate.verification_method.digest_field) !== digest) {
    throw new Error(`${gate.gate_id}: the flag written does not parse back to its digest`);
  }
  await put(join(ctx.runRoot, passedFlagPath), flag);
  return { gateId: gate.gate_id, segment: gate.segment, digest, bundleRoot, indexPath, passedFlagPath };
}

/** Writes the given gates in dependency order (layer 1 before 2 before 3). */
export async function writeGates(gateIds: readonly string[], ctx: GateWriteContext): Promise<WrittenGate[]> {
  const written: WrittenGate[] = [];
  for (const gate of GATE_MAP) if (gateIds.includes(gate.gate_id)) written.push(await writeGate(gate, ctx));
  return written;
}
