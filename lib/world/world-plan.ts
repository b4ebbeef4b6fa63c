import { type ArrivalTable, planArrivals } from './arrivals.ts';
import { type CampaignPlan, EVENTS_PER_CAMPAIGN_ESTIMATE, planCampaigns } from './campaigns.ts';
import { type EntityTable, type MerchantTable, planEntities, planMerchants } from './entities.ts';
import { type EventColumns, STREAM_BASELINE_ONLY } from './event-columns.ts';
import { EXPECTED_EVENTS_PER_FLOW, type FlowTable, planBaselineEvents, planFlows } from './flows.ts';
import { applyFraudOverlay } from './fraud-overlay.ts';
import { HORIZON_HOURS, MICROS_PER_HOUR, WORLD_RECIPE, type WorldIdentity } from './identity.ts';
import { saltFrom } from './ids.ts';
import { RandomStream } from './random.ts';
import { type CaseTable, planCases } from './truth.ts';

/** Everything the writers need, planned in memory as columns (no I/O). */
export interface WorldPlan {
  readonly identity: WorldIdentity;
  readonly scenarioId: string;
  readonly merchants: MerchantTable;
  readonly entities: EntityTable;
  readonly campaigns: CampaignPlan;
  readonly arrivals: ArrivalTable;
  readonly flows: FlowTable;
  readonly events: EventColumns;
  readonly cases: CaseTable;
}

/** How a requested --events count becomes a world: campaigns first, then baseline flows for the rest. */
export function worldScale(events: number) {
  const roughFlows = events / EXPECTED_EVENTS_PER_FLOW;
  const campaigns = Math.min(400, Math.max(3, Math.round(roughFlows / 1000)));
  const baselineFlows = Math.max(
    1,
    Math.round((events - campaigns * EVENTS_PER_CAMPAIGN_ESTIMATE) / EXPECTED_EVENTS_PER_FLOW),
  );
  return {
    campaigns,
    baselineFlows,
    merchants: Math.min(20_000, Math.max(12, Math.round(roughFlows / 120))),
    parties: Math.max(40, Math.round(roughFlows / 6)),
  };
}

/**
 * Plans a world. Merchants and entities depend on the world key only (they are the same in every
 * scenario, like the engine's 1A–6A); arrivals, flows, campaigns and cases also depend on scenario_id.
 */
export function planWorld(identity: WorldIdentity, scenarioId: string): WorldPlan {
  const worldLabel = `${WORLD_RECIPE}|seed=${identity.seed}|events=${identity.events}`;
  const scenarioLabel = `${worldLabel}|scenario_id=${scenarioId}`;
  const stream = (label: string, name: string) => new RandomStream(`${label}|${name}`);
  const worldSalt = saltFrom(`${worldLabel}|ids`);
  const scenarioSalt = saltFrom(`${scenarioLabel}|ids`);
  const scale = worldScale(identity.events);

  const merchants = planMerchants(scale.merchants, worldSalt, stream(worldLabel, 'merchants'));
  const entities = planEntities(
    { parties: scale.parties, freshDevices: scale.campaigns, freshIps: 3 * scale.campaigns },
    worldSalt,
    stream(worldLabel, 'entities'),
  );
  const campaigns = planCampaigns(
    {
      count: scale.campaigns,
      manifestFingerprint: identity.manifestFingerprint,
      parameterHash: identity.parameterHash,
      seed: identity.seed,
      scenarioId,
      horizonStartMicros: identity.horizonStartMicros,
      horizonMicros: HORIZON_HOURS * MICROS_PER_HOUR,
      merchants,
      entities,
    },
    stream(scenarioLabel, 'campaigns'),
  );
  const arrivals = planArrivals(
    {
      baselineCount: scale.baselineFlows,
      campaignArrivals: campaigns.arrivals,
      horizonStartMicros: identity.horizonStartMicros,
      merchants,
      entities,
      salt: scenarioSalt,
    },
    stream(scenarioLabel, 'arrivals'),
  );
  const flows = planFlows(arrivals, merchants, scenarioSalt, stream(scenarioLabel, 'flows'));
  const events = planBaselineEvents(flows, arrivals, STREAM_BASELINE_ONLY, stream(scenarioLabel, 'events'));
  applyFraudOverlay(flows, arrivals, campaigns, events, stream(scenarioLabel, 'overlay'));
  const cases = planCases(flows, events, campaigns.campaigns, scenarioSalt, stream(scenarioLabel, 'cases'));
  return { identity, scenarioId, merchants, entities, campaigns, arrivals, flows, events, cases };
}
