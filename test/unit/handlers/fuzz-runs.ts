/**
 * How far the stream handlers' fuzz explores (ready-consumer-fuzz.test.ts, projector-fuzz.test.ts): FUZZ_RUNS inputs a
 * property (300 by default). A fixed seed in `npm test`, so the checks that the inputs reached every kind of answer
 * hold on every run (a rare input — a 1 MiB envelope — may not come up in a few hundred random runs);
 * `FUZZ_SEED=random` (or a number) explores other inputs, and a failure prints its seed to replay.
 */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
export const SEED =
  process.env.FUZZ_SEED === 'random' ? undefined : Number(process.env.FUZZ_SEED ?? 20261207);

/** fast-check's parameters for a property of `numRuns` inputs, under the seed. */
export const fuzzParameters = (numRuns: number) => ({
  numRuns,
  ...(SEED === undefined ? {} : { seed: SEED }),
});
