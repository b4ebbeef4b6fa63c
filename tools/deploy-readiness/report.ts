import { servicePrefixOf } from './iam-actions.ts';
import type { Finding, ReadinessInput, SdkCommand } from './model.ts';
import { unzippedWithLayers } from './rules/size.ts';

/** The human report: what the template holds, a per-function table, the layers, and warnings. */

export function formatTable(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

const bytes = (n: number) => n.toLocaleString('en-US');

function commandLabel(command: SdkCommand): string {
  const service = command.client === '@aws-sdk/lib-storage' ? 'lib-storage' : servicePrefixOf(command.client);
  return `${service}.${command.command.replace(/Command$/, '')}`;
}

export function reportLines(input: ReadinessInput, templateLines: string[], warnings: string[]): string[] {
  const functionRows = input.functions.map((fn) => [
    fn.key,
    fn.artifact ?? '(inline)',
    bytes(fn.zippedBytes),
    bytes(fn.unzippedBytes),
    bytes(unzippedWithLayers(fn, input)),
    fn.bundle?.commands.map(commandLabel).sort().join(' ') || '-',
  ]);
  const layerRows = input.layers.map((l) => [
    l.logicalId,
    l.artifact ?? '-',
    bytes(l.unzippedBytes),
    l.modules.join(' ') || '-',
  ]);
  return [
    `stage ${input.stage}: ${Object.keys(input.template.Resources).length} resources`,
    ...templateLines.map((l) => `  ${l}`),
    '',
    ...formatTable([
      ['function', 'zip', 'zipped', 'unzipped', 'with layers', 'SDK commands'],
      ...functionRows,
    ]),
    '',
    ...formatTable([['layer', 'zip', 'unzipped', 'modules'], ...layerRows]),
    ...(warnings.length > 0 ? ['', ...warnings] : []),
  ];
}

export function findingLine(finding: Finding): string {
  return `[${finding.rule}] ${finding.resource}: ${finding.message}`;
}
