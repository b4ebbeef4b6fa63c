import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { jsonFileBytes } from '../../lib/contracts/canonical-json.ts';
import { TIME_ZONES } from '../../lib/world/entities.ts';
import type { OutputEvidence } from '../../lib/world/gate-bundles.ts';
import { requiredGateIds } from '../../lib/world/gate-map.ts';
import { formatUtcMicros, HORIZON_HOURS, WORLD_RECIPE, worldIdentity } from '../../lib/world/identity.ts';
import { MAX_ID63 } from '../../lib/world/ids.ts';
import {
  outputDirectory,
  partFileName,
  WORLD_CATALOGUE,
  WORLD_OUTPUT_IDS,
  type WorldOutputId,
} from '../../lib/world/layout.ts';
import { planWorld, type WorldPlan } from '../../lib/world/world-plan.ts';
import { type WrittenGate, writeGates } from './gate-writer.ts';
import { outputQueries, routingUniverseHash } from './outputs.ts';
import { ParquetSession } from './parquet-writer.ts';
import { stageWorld } from './staging.ts';

/** Smallest world: enough baseline traffic around the three campaigns every world carries. */
export const MIN_EVENTS = 500;
export const MAX_EVENTS = 50_000_000;

export const GenerateWorldOptions = z.object({
  /** The engine run root to create (must not exist, or be an empty directory). */
  out: z.string().min(1),
  /** Target row count of s3_event_stream_with_fraud_6B (met within a few percent). */
  events: z.number().int().min(MIN_EVENTS).max(MAX_EVENTS),
  /** uint64 in the interface pack; capped at 2^63−1 because the engine writes the 6B seed column as int64. */
  seed: z.bigint().min(0n).max(MAX_ID63),
  scenarioId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, "_", "." and "-" only')
    .default('baseline_v1'),
});
export type GenerateWorldOptions = z.input<typeof GenerateWorldOptions> & {
  onProgress?: (progress: WorldProgress) => void;
};

export interface WorldProgress {
  readonly stage: 'plan' | 'output' | 'gates' | 'receipt';
  readonly message: string;
  readonly outputId?: WorldOutputId;
  readonly part?: number;
  readonly parts?: number;
}

export interface WorldSummary {
  readonly runRoot: string;
  readonly runId: string;
  readonly manifestFingerprint: string;
  readonly parameterHash: string;
  readonly seed: bigint;
  readonly scenarioId: string;
  readonly outputs: readonly OutputEvidence[];
  readonly gates: readonly WrittenGate[];
  readonly campaigns: number;
  readonly fraudFlows: number;
  readonly timingsMs: {
    readonly plan: number;
    readonly parquet: number;
    readonly gates: number;
    readonly total: number;
  };
}

/** The out directory already holds something: worlds are immutable, so it is never overwritten. */
export class WorldExistsError extends Error {
  override name = 'WORLD_EXISTS';
}

async function isEmptyOrAbsent(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

async function contentDigest(dir: string, files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) hash.update(await readFile(join(dir, file)));
  return hash.digest('hex');
}

function worldFacts(plan: WorldPlan) {
  return {
    merchants: plan.merchants.count,
    virtual_merchants: plan.merchants.isVirtual.reduce((n, v) => n + v, 0),
    sites: plan.merchants.siteId.filter((v) => v !== 0n).length,
    tzids: TIME_ZONES.map((z) => z.tzid),
    routing_universe_hash: routingUniverseHash(plan),
    horizon: { start_utc: formatUtcMicros(plan.identity.horizonStartMicros), hours: HORIZON_HOURS },
    arrivals: plan.arrivals.count,
    parties: plan.entities.parties,
    accounts: plan.entities.accountId.length,
    devices: plan.entities.deviceId.length,
    ips: plan.entities.ipId.length,
    campaigns: plan.campaigns.campaigns.map((c) => ({
      campaign_id: c.campaignId,
      template: c.template,
      fraud_label: c.fraudLabel,
    })),
  };
}

async function writeOutputs(
  session: ParquetSession,
  plan: WorldPlan,
  root: string,
  progress: (p: WorldProgress) => void,
) {
  const tokens = {
    seed: plan.identity.seed.toString(),
    parameter_hash: plan.identity.parameterHash,
    manifest_fingerprint: plan.identity.manifestFingerprint,
    scenario_id: plan.scenarioId,
  };
  const evidence: OutputEvidence[] = [];
  for (const query of outputQueries(plan)) {
    const directory = outputDirectory(query.outputId, tokens);
    await mkdir(join(root, directory), { recursive: true });
    const files: string[] = [];
    for (let part = 0; part < query.parts; part++) {
      const file = partFileName(part);
      await session.copyToParquet(query.select(part), join(root, directory, file));
      files.push(file);
      progress({
        stage: 'output',
        outputId: query.outputId,
        part: part + 1,
        parts: query.parts,
        message: `${query.outputId} ${part + 1}/${query.parts} parts (${query.rows} rows)`,
      });
    }
    const digest = await contentDigest(join(root, directory), files);
    evidence.push({
      outputId: query.outputId,
      directory,
      parts: query.parts,
      rows: query.rows,
      contentDigest: digest,
    });
  }
  return evidence;
}

/**
 * Generates a synthetic engine world: run_receipt.json, the nine outputs at their catalogue paths and
 * every gate the traffic outputs require. Same options → byte-identical files. The world is built in a
 * sibling folder and renamed into place, so `out` either holds a whole world or nothing.
 */
export async function generateWorld(options: GenerateWorldOptions): Promise<WorldSummary> {
  const { out, events, seed, scenarioId } = GenerateWorldOptions.parse(options);
  const progress = options.onProgress ?? (() => {});
  const runRoot = resolve(out);
  if (!(await isEmptyOrAbsent(runRoot)))
    throw new WorldExistsError(`${runRoot} is not empty; worlds are write-once`);
  const staging = join(dirname(runRoot), `.${basename(runRoot)}.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const started = performance.now();
  let session: ParquetSession | undefined;
  try {
    const identity = worldIdentity(seed, events);
    progress({
      stage: 'plan',
      message: `planning world seed=${seed} events=${events} scenario_id=${scenarioId}`,
    });
    const plan = planWorld(identity, scenarioId);
    const planned = performance.now();

    session = await ParquetSession.open();
    await stageWorld(session, plan);
    const outputs = await writeOutputs(session, plan, staging, progress);
    const written = performance.now();

    const gateIds = requiredGateIds(
      [...WORLD_OUTPUT_IDS],
      WORLD_OUTPUT_IDS.flatMap((o) => WORLD_CATALOGUE[o].read_requires_gates),
    );
    progress({ stage: 'gates', message: `writing ${gateIds.length} gates` });
    const gates = await writeGates(gateIds, {
      runRoot: staging,
      identity,
      scenarioId,
      outputs,
      facts: worldFacts(plan),
    });
    const gated = performance.now();

    progress({ stage: 'receipt', message: 'writing run_receipt.json' });
    await writeFile(
      join(staging, 'run_receipt.json'),
      jsonFileBytes({
        run_id: identity.runId,
        manifest_fingerprint: identity.manifestFingerprint,
        parameter_hash: identity.parameterHash,
        seed: identity.seed,
        created_utc: identity.createdUtc,
        generator: { recipe: WORLD_RECIPE, events_requested: events },
      }),
    );
    if (await isEmptyOrAbsent(runRoot)) await rmdir(runRoot).catch(() => {});
    await rename(staging, runRoot);
    return {
      runRoot,
      runId: identity.runId,
      manifestFingerprint: identity.manifestFingerprint,
      parameterHash: identity.parameterHash,
      seed,
      scenarioId,
      outputs,
      gates,
      campaigns: plan.campaigns.campaigns.length,
      fraudFlows: plan.campaigns.arrivals.length,
      timingsMs: {
        plan: planned - started,
        parquet: written - planned,
        gates: gated - written,
        total: performance.now() - started,
      },
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    session?.close();
  }
}
