/** World Streamer tables (control-ingress.md §4.1, §4.6). Filled in by the world-streamer adapters. */
export const sql = `SELECT 1;`;
