import type { Projector } from '../lib/run-lifecycle/rtdl-caught-up.ts';
import { PROJECTORS } from '../lib/run-lifecycle/rtdl-caught-up.ts';
import { type BenchOutcome, type Ratio, type Row, ratio, row } from './report.ts';
import type { Mapping } from './rtdl-bus.ts';
import type { CeilingDrain, ProjectorDrain } from './rtdl-drain.ts';
import type { onlineFeaturesHistory } from './rtdl-online-features.ts';
import type { Size } from './rtdl-sizes.ts';
import { type Placement, POOLS } from './rtdl-world.ts';

/**
 * What `npm run bench -- rtdl` (bench/rtdl.ts) reports: its rows (each projector's records/s per shard count, the
 * ceilings, the online features' µs/event at both histories), their ratios, the notes a reader of the JSON needs,
 * the raw figures; and the labels its progress lines share with the rows.
 */

/** The three largest shares of the sampled Postgres sessions, as `state wait NN%`. */
export const topWaits = (waits: Record<string, number>) =>
  Object.entries(waits)
    .slice(0, 3)
    .map(([what, share]) => `${what} ${Math.round(share * 100)}%`)
    .join(', ');
/** "1 shard" or "2 shards". */
export const shardsLabel = (p: Placement) => (p === 1 ? '1 shard' : '2 shards');
/** A whole number with thousands separators. */
export const wholeNumber = (x: number) => Math.round(x).toLocaleString('en-US');

/** Everything the bench measured, and what it needs to say how. */
export interface RtdlFigures {
  size: Size;
  /** Records of each backlog. */
  records: number;
  stackSeconds: number;
  meanBytes: number;
  drains: ProjectorDrain[];
  ceilings: Record<Placement, CeilingDrain[]>;
  onlineFeatures: Awaited<ReturnType<typeof onlineFeaturesHistory>>;
  /** The projectors' mappings, and the function each belongs to. */
  mappings: Mapping[];
  functionOf: (projector: Projector) => string;
}

export function rtdlOutcome(figures: RtdlFigures): BenchOutcome {
  const { size, records, stackSeconds, meanBytes, drains, ceilings, onlineFeatures, mappings, functionOf } =
    figures;
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const ceilingRows = new Map<Placement, Row>();
  for (const placement of [1, 2] as const) {
    const cs = ceilings[placement];
    ceilingRows.set(
      placement,
      row(
        `ceiling: ESM fixture counter, ${shardsLabel(placement)}`,
        cs.reduce((s, c) => s + c.rate, 0) / cs.length,
        'rec/s',
        `${cs[0]?.records} records, enable → all counted; before / after the projectors: ${cs.map((c) => wholeNumber(c.rate)).join(' / ')}; first invoke → last end: ${cs.map((c) => wholeNumber(c.firstToLastRate)).join(' / ')}`,
      ),
    );
  }
  for (const placement of [1, 2] as const)
    for (const d of drains.filter((x) => x.placement === placement)) {
      const r = row(
        `${d.projector}, ${shardsLabel(placement)}`,
        d.rate,
        'rec/s',
        `${d.records} records on ${d.topics.length} topics (${d.shardsRead} shards read), enable → checkpoints at the last offsets; sessions: ${topWaits(d.waits)}`,
      );
      rows.push(r);
      ratios.push(
        ratio(
          r,
          ceilingRows.get(placement) as Row,
          `${d.projector} / the local ceiling, ${shardsLabel(placement)} (target ≥ 0.5)`,
        ),
      );
    }
  rows.push(ceilingRows.get(1) as Row, ceilingRows.get(2) as Row);
  const probeNote = (p: { micros: number[] }) =>
    `median of ${size.probes} probes of ${size.probe} events: ${p.micros.map((m) => Math.round(m)).join(', ')}`;
  const low = row(
    `online features µs/event at ${wholeNumber(onlineFeatures.low.history)} history`,
    onlineFeatures.low.median,
    'µs/event',
    probeNote(onlineFeatures.low),
  );
  const high = row(
    `online features µs/event at ${wholeNumber(onlineFeatures.high.history)} history`,
    onlineFeatures.high.median,
    'µs/event',
    probeNote(onlineFeatures.high),
  );
  rows.push(low, high);
  ratios.push(ratio(high, low, 'online features cost per event, long history / short (flat ≈ 1)'));

  return {
    rows,
    ratios,
    notes: {
      sizes: { ...size, recordsPerBacklog: records },
      method:
        'A backlog of valid envelopes of a pinned run waits on the bus with every projector mapping disabled; one projector at a time has its mappings enabled (UpdateEventSourceMapping on the local poller) and is timed until its checkpoints in the run scope reach the last sequence number put on each (topic, shard) it reads; then disabled. P8\'s progress port must then account every event of the backlog per topic. Per flow: an arrival event, a flow anchor, two traffic events; each projector counts the records of the topics it reads. "1 shard": one partition key per stream; "2 shards": flows alternate between the two shards (the deployed count).',
      ceiling:
        "The ESM fixture's counter function (test/fixtures/esm-service `throughput`, batchSize 500, the function of the esm bench's backlog drain) on its own throwaway stack, draining the same records (same bytes, count and shard placement), timed the same way (enable → every record counted), before and after the projectors of each shard count; the row is their mean. The first-invoke → last-end rate (the esm bench's measure) is in the note. A projector reads one stream per topic, so its \"1 shard\" is one shard of each of its 2–3 streams, where the counter reads one stream.",
      onlineFeatures:
        "In process against the stack Postgres: applyOnlineFeatureBatch on postgresOnlineFeatureStore inside inBatchTransaction, batches of 500 of the same flow mix (flows unique, anchors over bounded entity pools), feature policy from config; µs per event of each probe, median of the probes at each history. detail.onlineFeatures.curve: the µs per event of each chunk of the fill, to tell a trend from the machine's load changing.",
      sessions:
        "detail.drains[].waits: during each drain, every 200 ms, the platform database's sessions in a transaction by state and wait event, as shares of all samples ('active CPU' executing, 'active Lock:…' waiting for rows another batch holds, 'idle in transaction Client:ClientRead' waiting for the function's next statement).",
      mappings: Object.fromEntries(
        PROJECTORS.map((projector) => {
          const own = mappings.filter((m) => m.functionName === functionOf(projector));
          return [
            projector,
            {
              mappings: own.length,
              batchSize: [...new Set(own.map((m) => m.batchSize))],
              batchingWindowSeconds: [...new Set(own.map((m) => m.windowSeconds))],
            },
          ];
        }),
      ),
      batching:
        "per shard the full-size counts are whole batches (500; archive writer 1,000). The projectors' functions.yml set `maximumBatchingWindowInSeconds: 1`, which is not a key of the Serverless stream event (its key is `batchWindow`): the mappings run with no window (see `mappings`), here and on AWS",
      entityPools: POOLS,
      meanRecordBytes: Math.round(meanBytes),
    },
    detail: {
      stackStartSeconds: Math.round(stackSeconds),
      drains: drains.map((d) => ({ ...d, seconds: Math.round(d.seconds * 1000) / 1000 })),
      ceilings,
      scaling: PROJECTORS.map((projector) => {
        const [one, two] = [1, 2].map(
          (pl) => drains.find((d) => d.projector === projector && d.placement === pl)?.rate ?? Number.NaN,
        ) as [number, number];
        return { projector, twoShardsOverOne: Math.round((two / one) * 100) / 100 };
      }),
      onlineFeatures,
    },
  };
}
