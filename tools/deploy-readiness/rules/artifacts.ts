import type { Finding, ReadinessInput } from '../model.ts';

/** Each function's and layer's zip is in the package directory, and each handler's file is in its zip. */

export function artifactsRule(input: ReadinessInput): Finding[] {
  const findings: Finding[] = [];
  for (const fn of input.functions) {
    if (fn.artifact === undefined) continue;
    const message = !fn.artifactFound
      ? `${fn.key}: artifact ${fn.artifact} is not in the package directory`
      : fn.handlerFile === undefined
        ? `${fn.key}: handler ${fn.handler} has no .cjs/.js/.mjs file in ${fn.artifact}`
        : undefined;
    if (message) findings.push({ rule: 'artifacts', resource: fn.logicalId, message });
  }
  for (const layer of input.layers)
    if (layer.artifact !== undefined && !layer.artifactFound)
      findings.push({
        rule: 'artifacts',
        resource: layer.logicalId,
        message: `layer artifact ${layer.artifact} is not in the package directory`,
      });
  return findings;
}
