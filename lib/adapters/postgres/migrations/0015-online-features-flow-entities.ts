/**
 * Online Feature Plane, the entities of a flow (issue 14): the decision fabric decides on traffic events, whose
 * payload names only the flow; the flow's anchor names its account, instrument, device, ip, party and merchant. Each
 * anchor's sighting row now keeps its flow id, found by (scope, flow id), so the decision fabric asks for the features
 * of the flow's entities as of the traffic event's time.
 */
export const sql = `
ALTER TABLE ofp_entity_sightings ADD COLUMN IF NOT EXISTS flow_id text;
CREATE INDEX IF NOT EXISTS ofp_entity_sightings_by_flow_id
  ON ofp_entity_sightings (stream_id, platform_run_id, scenario_run_id, flow_id)
  WHERE flow_id IS NOT NULL;
`;
