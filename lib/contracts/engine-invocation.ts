import { z } from 'zod';
import { Hex32, Hex64, Uint64 } from './wire-primitives.ts';

const ScenarioId = z.string().min(1).max(512);

/** interface_pack/contracts/engine_invocation.schema.yaml (closed). */
export const EngineInvocation = z.strictObject({
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  seed: Uint64,
  run_id: Hex32,
  scenario_binding: z.union([
    z.strictObject({ scenario_id: ScenarioId }),
    z
      .strictObject({ scenario_set: z.array(ScenarioId).min(1) })
      .refine((b) => new Set(b.scenario_set).size === b.scenario_set.length, 'scenario_set items are unique'),
  ]),
  request_id: z.string().min(1).max(128).optional(),
  invoker: z.string().min(1).max(128).optional(),
  notes: z.string().max(2048).optional(),
  engine_run_root: z.string().min(1).max(2048).optional(),
});
export type EngineInvocation = z.infer<typeof EngineInvocation>;
