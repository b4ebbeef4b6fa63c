import type { Finding, FunctionFacts, ReadinessInput } from '../model.ts';

/** A function's zip within the goal, and the function plus its layers unzipped within Lambda's 250 MB. */

export function unzippedWithLayers(fn: FunctionFacts, input: ReadinessInput): number {
  const layers = input.layers.filter((l) => fn.layerIds.includes(l.logicalId));
  return fn.unzippedBytes + layers.reduce((sum, l) => sum + l.unzippedBytes, 0);
}

export function sizeRule(input: ReadinessInput): Finding[] {
  const findings: Finding[] = [];
  const { zipGoalBytes, unzippedLimitBytes } = input.limits;
  for (const fn of input.functions) {
    if (!fn.artifactFound) continue;
    if (fn.zippedBytes > zipGoalBytes)
      findings.push({
        rule: 'size',
        resource: fn.logicalId,
        message: `${fn.key}: ${fn.artifact} is ${fn.zippedBytes} bytes zipped, over the goal of ${zipGoalBytes}`,
      });
    const total = unzippedWithLayers(fn, input);
    if (total > unzippedLimitBytes)
      findings.push({
        rule: 'size',
        resource: fn.logicalId,
        message: `${fn.key}: ${total} bytes unzipped with its layers, over Lambda's limit of ${unzippedLimitBytes}`,
      });
  }
  return findings;
}
