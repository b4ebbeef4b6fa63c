import type pg from 'pg';
import { postgresOnlineFeatureStore } from '../lib/adapters/online-features-stores.ts';
import { inBatchTransaction } from '../lib/adapters/postgres/projector-store.ts';
import { canonicalJson, parseJsonLossless } from '../lib/contracts/canonical-json.ts';
import { consumerCheckpointScope } from '../lib/contracts/identity.ts';
import { type FeatureBusRecord, ONLINE_FEATURES_STREAM_BASE } from '../lib/contracts/online-features.ts';
import { applyOnlineFeatureBatch, type OnlineFeatureIntakeSettings } from '../lib/online-features/intake.ts';
import { loadFeaturePolicy } from '../lib/runtime/online-features-config.ts';
import { median, secondsSince } from './report.ts';
import type { Size } from './rtdl-sizes.ts';
import { flowEvents, TOPIC } from './rtdl-world.ts';

/**
 * The online features' cost per event as history grows, part 3 of `npm run bench -- rtdl` (bench/rtdl.ts): in process
 * against the stack's Postgres, `applyOnlineFeatureBatch` on `postgresOnlineFeatureStore` inside
 * `inBatchTransaction` (what the function runs), batches of 500 of the flow mix; µs per event of fixed-size probes
 * at a short and a long history, and of each chunk of the fill along the way.
 */

/**
 * Fills the history to each of the two lengths and probes it there (after `beforeProbes`, which the first probe
 * waits for); answers both probes, the events applied, the seconds it took, and the cost along the fill.
 */
export async function onlineFeaturesHistory(
  db: pg.Pool,
  size: Size,
  say: (line: string) => void,
  beforeProbes: Promise<unknown>,
) {
  const run = 'platform_20330101T000000Z';
  const streamId = consumerCheckpointScope(ONLINE_FEATURES_STREAM_BASE, run);
  const settings: OnlineFeatureIntakeSettings = { requiredPlatformRunId: run, policy: loadFeaturePolicy() };
  const offsets = new Map<string, bigint>();
  let flow = 0;
  let pending: FeatureBusRecord[] = [];
  const take = (n: number): FeatureBusRecord[] => {
    while (pending.length < n) {
      for (const e of flowEvents(run, flow)) {
        if (e.topic === TOPIC.arrival) continue; // not an online-features topic
        const partition = flow % 2;
        const at = `${e.topic}/${partition}`;
        const offset = (offsets.get(at) ?? 49_600_000_000_000_000_000n) + 1n;
        offsets.set(at, offset);
        pending.push({
          topic: e.topic,
          partition,
          offset: offset.toString(),
          offset_kind: 'kinesis_sequence',
          envelope: parseJsonLossless(canonicalJson(e.envelope)),
        });
      }
      flow++;
    }
    const out = pending.slice(0, n);
    pending = pending.slice(n);
    return out;
  };
  let applied = 0;
  const curve: Array<{ history: number; events: number; micros: number }> = [];
  const apply = async (records: FeatureBusRecord[]) => {
    for (let i = 0; i < records.length; i += 500) {
      const outcomes = await inBatchTransaction(db, (scope) =>
        applyOnlineFeatureBatch(
          postgresOnlineFeatureStore(scope, streamId),
          records.slice(i, i + 500),
          settings,
        ),
      );
      const notApplied = outcomes.find((o) => o.status !== 'APPLIED');
      if (notApplied) throw new Error(`online features history: ${JSON.stringify(notApplied)}`);
      applied += outcomes.length;
    }
  };
  // The fill in chunks of a twentieth of the longest history, each timed: the cost per event along the way.
  const chunk = Math.max(500, Math.round(size.history[1] / 20));
  const fillTo = async (history: number) => {
    while (applied < history) {
      const records = take(Math.min(chunk, history - applied));
      const [at, t0] = [applied, performance.now()];
      await apply(records);
      curve.push({
        history: at,
        events: records.length,
        micros: ((performance.now() - t0) * 1000) / records.length,
      });
    }
  };
  const probes = async () => {
    const at = applied;
    const micros: number[] = [];
    for (let k = 0; k < size.probes; k++) {
      const records = take(size.probe);
      const t0 = performance.now();
      await apply(records);
      micros.push(((performance.now() - t0) * 1000) / records.length);
    }
    say(`  online features: history ${at}: ${micros.map((m) => Math.round(m)).join(', ')} µs/event`);
    return { history: at, micros, median: median(micros) };
  };
  const t0 = performance.now();
  await fillTo(size.history[0]);
  await beforeProbes;
  const low = await probes();
  await fillTo(size.history[1]);
  const high = await probes();
  say(
    `  online features: µs/event while the history grew (from ${curve[0]?.history ?? 0} by ${chunk}): ${curve.map((c) => Math.round(c.micros)).join(', ')}`,
  );
  return {
    low,
    high,
    events: applied,
    seconds: secondsSince(t0),
    curve: curve.map((c) => ({ ...c, micros: Math.round(c.micros) })),
  };
}
