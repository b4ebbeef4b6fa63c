/** A run's stream settings, pinned with it at P1 and read by the World Streamer (RunStreamSettings). */
export const sql = `
ALTER TABLE platform_runs ADD COLUMN IF NOT EXISTS stream_settings jsonb NOT NULL DEFAULT '{}'::jsonb;
`;
