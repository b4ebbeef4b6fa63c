import { referencesIn } from '../intrinsics.ts';
import type { CfnTemplate, Finding, ReadinessInput } from '../model.ts';

/** CloudFormation refuses a template whose resources depend on each other in a circle. */

const MAX_CYCLES = 50;

/** Resource → the resources it depends on (Ref, Fn::GetAtt, Fn::Sub anywhere in Properties, and DependsOn). */
export function dependencyGraph(template: CfnTemplate): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    const targets = [...referencesIn(resource.Properties ?? {}).map((r) => r.target), ...dependsOn];
    graph.set(id, [...new Set(targets.filter((t) => t in template.Resources))].sort());
  }
  return graph;
}

/** Strongly connected components (Tarjan): a cycle never leaves one. */
function componentOf(graph: Map<string, string[]>): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let counter = 0;
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (!component.has(next)) low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(node) !== index.get(node)) return;
    const id = component.size;
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      component.set(member, id);
      if (member === node) break;
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return component;
}

/** Elementary cycles, each starting at its least node (in sorted order); at most `limit`. */
export function elementaryCycles(graph: Map<string, string[]>, limit = MAX_CYCLES): string[][] {
  const component = componentOf(graph);
  const nodes = [...graph.keys()].sort();
  const order = new Map(nodes.map((n, i) => [n, i]));
  const cycles: string[][] = [];
  let budget = 200_000;
  for (const start of nodes) {
    const startIndex = order.get(start) ?? 0;
    const path: string[] = [start];
    const onPath = new Set(path);
    // Only later nodes of the same component may appear, so each cycle is found once, from its least node.
    const walk = (node: string): void => {
      for (const next of graph.get(node) ?? []) {
        if (cycles.length >= limit || --budget < 0) return;
        if (next === start) cycles.push([...path, start]);
        else if (
          component.get(next) === component.get(start) &&
          (order.get(next) ?? -1) > startIndex &&
          !onPath.has(next)
        ) {
          path.push(next);
          onPath.add(next);
          walk(next);
          onPath.delete(next);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return cycles;
}

export function cyclesRule(input: ReadinessInput): Finding[] {
  const cycles = elementaryCycles(dependencyGraph(input.template));
  return cycles.map((cycle) => ({
    rule: 'cycles',
    resource: cycle[0] ?? '',
    message: `dependency cycle: ${cycle.join(' -> ')}`,
  }));
}
