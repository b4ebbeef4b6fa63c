import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { s3Client } from '../lib/adapters/aws-clients.ts';
import { getObjectText } from '../lib/adapters/s3-objects.ts';

/**
 * The P10–P12 part of `npm run parity`'s summary: the case plane's counts, the bank-view labels loaded, the run report's
 * headline and where its page is; the page is also copied next to the parity evidence, to open from disk.
 */

export const CaseLabelsSummary = z.object({
  triggers_expected: z.number(),
  triggers_admitted: z.number(),
  triggers_taken_in: z.number(),
  cases_created: z.number(),
  timeline_events: z.number(),
  labels_pending: z.number(),
  labels_accepted: z.number(),
  labels_rejected: z.number(),
  label_store_by_source: z.record(z.string(), z.number()),
  health: z.record(z.string(), z.string()),
});

export const ReportHeadline = z.object({
  admitted: z.number(),
  decisions: z.number(),
  cases: z.number(),
  labels_accepted: z.number(),
  precision: z.number().nullable(),
  recall_fraud: z.number().nullable(),
});

export function closeoutLines(
  cases: z.infer<typeof CaseLabelsSummary>,
  bankLabels: unknown,
  headline: z.infer<typeof ReportHeadline>,
): string[] {
  const sources = Object.entries(cases.label_store_by_source)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const bank = bankLabels && typeof bankLabels === 'object' ? (bankLabels as Record<string, unknown>) : {};
  return [
    `  case plane: ${cases.triggers_admitted} of ${cases.triggers_expected} triggers admitted, ${cases.triggers_taken_in} taken in; ${cases.cases_created} cases, ${cases.timeline_events} timeline events; labels accepted ${cases.labels_accepted}, pending ${cases.labels_pending}, rejected ${cases.labels_rejected}; health ${Object.entries(
      cases.health,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  label store: ${sources || 'empty'}${bank.accepted === undefined ? '' : `; bank view loaded: ${String(bank.accepted)} accepted of ${String(bank.assertions ?? '?')}`}`,
    `  run report: ${headline.admitted} events admitted, ${headline.decisions} decisions, ${headline.cases} cases, ${headline.labels_accepted} labels; precision ${headline.precision ?? '-'}, FRAUD recall ${headline.recall_fraud ?? '-'}`,
  ];
}

/** Copies the run report's page and JSON from the local cloud's bucket into `dir`; answers the page's path. */
export async function copyRunReport(
  s3Endpoint: string,
  region: string,
  reportRef: string,
  dir: string,
): Promise<string | undefined> {
  const m = /^s3:\/\/([^/]+)\/(.+)\.json$/.exec(reportRef);
  if (!m?.[1] || !m[2]) return undefined;
  const s3 = s3Client({ region, s3: s3Endpoint });
  let page: string | undefined;
  for (const ext of ['json', 'html']) {
    const text = await getObjectText(s3, m[1], `${m[2]}.${ext}`);
    if (text === undefined) continue;
    const file = path.join(dir, `platform_run_report.${ext}`);
    fs.writeFileSync(file, text);
    if (ext === 'html') page = file;
  }
  return page;
}
