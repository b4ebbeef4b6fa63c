/** P0 SUBSTRATE_READY: the exit gate's report, from probes of each part of the substrate. */

export type SubstrateCheckKind = 'bucket' | 'stream' | 'postgres';

export interface SubstrateCheck {
  kind: SubstrateCheckKind;
  name: string;
  ok: boolean;
  detail: string;
}

export interface SubstrateReport {
  phase: 'P0';
  ready: boolean;
  checks: SubstrateCheck[];
  /** `kind:name` of every failed check. */
  missing: string[];
  /** One line for an operator; names the failing parts first. */
  summary: string;
}

/** Port: how the core looks at the substrate. Each probe answers, it never throws. */
export interface SubstrateProbe {
  bucket(name: string): Promise<SubstrateCheck>;
  stream(name: string): Promise<SubstrateCheck>;
  /** Postgres reachable and every migration applied. */
  postgres(): Promise<SubstrateCheck>;
}

export interface SubstrateRequirements {
  buckets: string[];
  streams: string[];
}

export async function assessSubstrate(
  req: SubstrateRequirements,
  probe: SubstrateProbe,
): Promise<SubstrateReport> {
  const checks = await Promise.all([
    probe.postgres(),
    ...req.buckets.map((b) => probe.bucket(b)),
    ...req.streams.map((s) => probe.stream(s)),
  ]);
  const failed = checks.filter((c) => !c.ok);
  const missing = failed.map((c) => `${c.kind}:${c.name}`);
  const summary =
    failed.length === 0
      ? `substrate ready: postgres, ${req.buckets.length} buckets and ${req.streams.length} streams checked`
      : `substrate not ready (${failed.length} of ${checks.length} checks failed): ${failed.map(describeFailure).join('; ')}`;
  return { phase: 'P0', ready: failed.length === 0, checks, missing, summary };
}

function describeFailure(c: SubstrateCheck): string {
  const label = c.kind === 'postgres' ? 'Postgres' : `${c.kind} ${c.name}`;
  return `${label}: ${c.detail}`;
}
