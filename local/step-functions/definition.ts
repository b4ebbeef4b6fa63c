// Walks an ASL definition through Map (ItemProcessor/Iterator) and Parallel (Branches) sub-machines.
type JsonObject = Record<string, unknown>;

// setTimeout overflows past 2^31-1 ms and then fires after 1 ms, so engine timers are capped here.
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
// AWS's default Task TimeoutSeconds (the engine would otherwise apply 60 s).
const AWS_DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function forEachState(machine: unknown, visit: (name: string, state: JsonObject) => void): void {
  if (!isObject(machine) || !isObject(machine.States)) return;
  for (const [name, state] of Object.entries(machine.States)) {
    if (!isObject(state)) continue;
    visit(name, state);
    if (state.Type === 'Map') forEachState(state.ItemProcessor ?? state.Iterator, visit);
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      for (const branch of state.Branches) forEachState(branch, visit);
    }
  }
}

/** Task state name → Resource, across nested machines (ASL requires state names unique machine-wide). */
export function taskResources(definition: JsonObject): Map<string, string> {
  const resources = new Map<string, string>();
  forEachState(definition, (name, state) => {
    if (state.Type === 'Task' && typeof state.Resource === 'string') resources.set(name, state.Resource);
  });
  return resources;
}

/** State name → state, across nested machines (used to describe Map states in history). */
export function statesByName(definition: JsonObject): Map<string, JsonObject> {
  const states = new Map<string, JsonObject>();
  forEachState(definition, (name, state) => states.set(name, state));
  return states;
}

function capSeconds(holder: JsonObject, key: string): void {
  const value = holder[key];
  if (typeof value === 'number' && value > MAX_TIMER_SECONDS) holder[key] = MAX_TIMER_SECONDS;
}

const TYPE_TESTS = ['IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

/**
 * The engine evaluates a type test as `test && check`, so `IsPresent: false` (and every other `Is*: false`) never
 * matches; AWS matches when the check fails. Rewritten as `Not: {Is*: true}`, which the engine gets right.
 */
export function choiceRuleForEngine(rule: unknown): unknown {
  if (!isObject(rule)) return rule;
  if (Array.isArray(rule.And)) return { ...rule, And: rule.And.map(choiceRuleForEngine) };
  if (Array.isArray(rule.Or)) return { ...rule, Or: rule.Or.map(choiceRuleForEngine) };
  if (isObject(rule.Not)) return { ...rule, Not: choiceRuleForEngine(rule.Not) };
  const test = TYPE_TESTS.find((key) => rule[key] === false);
  if (!test) return rule;
  const { Next, ...condition } = rule;
  return { ...(Next === undefined ? {} : { Next }), Not: { ...condition, [test]: true } };
}

const TOLERATED_FAILURE_FIELDS = [
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
];

/** A copy for the engine: AWS's default Task timeout instead of the engine's 60 s, all timers capped. */
export function engineDefinition(definition: JsonObject): JsonObject {
  const copy = structuredClone(definition);
  capSeconds(copy, 'TimeoutSeconds');
  forEachState(copy, (name, state) => {
    if (state.Type === 'Choice' && Array.isArray(state.Choices))
      state.Choices = state.Choices.map(choiceRuleForEngine);
    // The engine treats a falsy Result (0, false, "", null) as no Result and passes its input on instead.
    if (state.Type === 'Pass' && 'Result' in state && !state.Result)
      throw new Error(
        `Pass state ${name}: Result ${JSON.stringify(state.Result)} is falsy, which the local Step Functions engine ignores; use a non-falsy Result`,
      );
    // The engine accepts the tolerated-failure fields and ignores them: a Map would fail where AWS goes on.
    const tolerated = TOLERATED_FAILURE_FIELDS.filter((field) => field in state);
    if (state.Type === 'Map' && tolerated.length > 0)
      throw new Error(
        `Map state ${name}: ${tolerated.join(', ')} is not supported by the local Step Functions engine (it would be ignored)`,
      );
    if (
      state.Type === 'Task' &&
      state.TimeoutSeconds === undefined &&
      state.TimeoutSecondsPath === undefined
    ) {
      state.TimeoutSeconds = AWS_DEFAULT_TASK_TIMEOUT_SECONDS;
    }
    if (state.Type === 'Task' || state.Type === 'Wait')
      capSeconds(state, state.Type === 'Task' ? 'TimeoutSeconds' : 'Seconds');
  });
  return copy;
}
