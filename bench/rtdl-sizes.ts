/**
 * How big `npm run bench -- rtdl` (bench/rtdl.ts) runs: flows per backlog (4 records each), the two history lengths
 * the online features are probed at, and the probes; full size, or tiny with --smoke.
 */

const SIZES = {
  // 4 records per flow: 8,000 records a backlog, whole batches of 500 and 1,000 on every (topic, shard).
  full: { flows: 2_000, history: [10_000, 200_000] as const, probe: 2_000, probes: 3 },
  smoke: { flows: 60, history: [1_000, 5_000] as const, probe: 250, probes: 3 },
};
export type Size = { flows: number; history: readonly [number, number]; probe: number; probes: number };

/** Full sizes can be changed with BENCH_RTDL_FLOWS (4 records each) and BENCH_RTDL_HISTORY (`10000,200000`). */
export function sizes(smoke: boolean): Size {
  if (smoke) return SIZES.smoke;
  const f = SIZES.full;
  const history = process.env.BENCH_RTDL_HISTORY?.split(',').map(Number);
  return {
    ...f,
    flows: Number(process.env.BENCH_RTDL_FLOWS ?? f.flows),
    history: history?.length === 2 ? [history[0] as number, history[1] as number] : f.history,
  };
}
