/** Scenario Runner authority tables (control-ingress.md §3.2). Filled in by the scenario-runner adapters. */
export const sql = `SELECT 1;`;
