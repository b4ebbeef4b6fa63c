// The one module that imports aws-local-stepfunctions; the polyfill must be evaluated first.
import './polyfill.ts';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';

export {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';

type Run = StateMachine['run'];
export type RunOptions = NonNullable<Parameters<Run>[1]>;
export type JsonValue = Parameters<Run>[0];
export type EngineEvent = ReturnType<Run>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
export type TaskHandler = (input: JsonValue) => Promise<JsonValue>;
export type TaskHandlers = Record<string, TaskHandler>;
type EngineDefinition = ConstructorParameters<typeof StateMachine>[0];
type EngineExecution = ReturnType<Run>;

/** Builds an engine for a definition; throws (with asl-validator's text) when the definition is invalid. */
export function createEngine(definition: Record<string, unknown>): StateMachine {
  // asl-validator inside the constructor checks the shape, so the cast only names what it verifies.
  return new StateMachine(definition as unknown as EngineDefinition, {
    validationOptions: { checkArn: false },
  });
}

/** JSON.parse typed as the engine's JSON value (JSON.parse can only produce JSON values). */
export function parseJson(text: string): JsonValue {
  return JSON.parse(text);
}

export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The Task handlers of an execution, per run: the execution itself, each Map iteration, each Parallel branch.
 *
 * AWS stops the other iterations of a Map (branches of a Parallel) once one fails, also when a Catch lets the
 * execution go on. The engine aborts them too, but an aborted iteration sleeping between Retry attempts wakes up
 * at once and runs its Task again, and an iteration still queued behind MaxConcurrency starts after the failure.
 * So every run gets its own handlers and a `stopped` signal, aborted once the run must start nothing more (its
 * execution stopped, timed out or reached the history limit, or a sibling failed its Map/Parallel state); a
 * handler checks it before it invokes anything, and a run started when its siblings have already failed is
 * not started at all.
 */
export interface ScopedTasks {
  handlersFor(stopped: AbortSignal): TaskHandlers;
  /** A Map iteration or Parallel branch was not started: its state had failed (or its execution stopped) first. */
  notStarted(): void;
}

/** Runs the engine with handlers bound to the run they are called in (see ScopedTasks). */
export function runScoped(
  engine: StateMachine,
  input: JsonValue,
  options: RunOptions,
  tasks: ScopedTasks,
): EngineExecution {
  const scoped: ScopedRunOptions = { ...options, [SCOPED_TASKS]: tasks };
  return engine.run(input, scoped);
}

// The engine passes its run options down to nested runs (it spreads them, symbol keys included).
const SCOPED_TASKS = Symbol('scopedTasks');
const SIBLINGS_STOPPED = Symbol('siblingsStopped');

interface ScopedRunOptions extends RunOptions {
  [SCOPED_TASKS]?: ScopedTasks;
  /** Aborted when a sibling fails the state that started this run, or the parent run stops. */
  [SIBLINGS_STOPPED]?: AbortSignal;
}

/** What the engine's private `execute` receives, as far as used here. */
interface ExecuteOptions {
  runOptions: ScopedRunOptions;
  abortSignal: AbortSignal;
  eventLogger: Record<'dispatchStateEnteredEvent' | 'dispatchStateRetriedEvent', (...args: never[]) => void>;
}
type Execute = (
  this: StateMachine,
  input: JsonValue,
  options: ExecuteOptions,
  cleanup: () => void,
) => unknown;

/** One run in progress, for the runs its current state starts (iterations, branches). */
class RunScope {
  #siblings: AbortController | undefined;

  constructor(readonly stopped: AbortSignal) {}

  /** The runs the current attempt of the current state starts: aborted together when one of them fails. */
  siblings(): AbortController {
    this.#siblings ??= new AbortController();
    return this.#siblings;
  }

  /** A state entered or retried: its runs are new siblings. */
  nextAttempt(): void {
    this.#siblings = undefined;
  }
}

/** The scope of each run, by the run options its states hand to the runs they start. */
const scopes = new WeakMap<object, RunScope>();
/** The siblings of a Map's iterations, by the machine they run on (one per Map attempt, queued ones included). */
const siblingsOfMachine = new WeakMap<StateMachine, AbortController>();

const engineRun = StateMachine.prototype.run;
const engineExecute = Reflect.get(StateMachine.prototype, 'execute') as Execute;

StateMachine.prototype.run = function run(this: StateMachine, input, options?: ScopedRunOptions) {
  const parent = options && scopes.get(options);
  if (!options || !parent) return engineRun.call(this, input, options);
  const siblings = siblingsOfMachine.get(this) ?? parent.siblings();
  siblingsOfMachine.set(this, siblings);
  const stopped = AbortSignal.any([siblings.signal, parent.stopped]);
  if (stopped.aborted) {
    options[SCOPED_TASKS]?.notStarted();
    return notStarted();
  }
  const execution = engineRun.call(this, input, { ...options, [SIBLINGS_STOPPED]: stopped });
  // The first to fail fails the state: from now on its siblings start nothing (the engine aborts them shortly).
  execution.result.catch((error: unknown) => {
    if (!(error instanceof ExecutionAbortedError)) siblings.abort();
  });
  return execution;
};

Reflect.set(StateMachine.prototype, 'execute', function execute(
  this: StateMachine,
  input: JsonValue,
  options: ExecuteOptions,
  cleanup: () => void,
) {
  const { runOptions, eventLogger } = options;
  const tasks = runOptions[SCOPED_TASKS];
  if (tasks) {
    const fromParent = runOptions[SIBLINGS_STOPPED];
    const scope = new RunScope(
      fromParent ? AbortSignal.any([options.abortSignal, fromParent]) : options.abortSignal,
    );
    scopes.set(runOptions, scope);
    for (const name of ['dispatchStateEnteredEvent', 'dispatchStateRetriedEvent'] as const) {
      const dispatch = eventLogger[name].bind(eventLogger);
      eventLogger[name] = (...args) => {
        scope.nextAttempt();
        dispatch(...args);
      };
    }
    runOptions.overrides = {
      ...runOptions.overrides,
      taskResourceLocalHandlers: tasks.handlersFor(scope.stopped),
    };
  }
  return engineExecute.call(this, input, options, cleanup);
} satisfies Execute);

/** A run that never starts: no events, settled as aborted (its state has failed already, nobody waits for it). */
function notStarted(): EngineExecution {
  const result = Promise.reject(new ExecutionAbortedError());
  result.catch(() => undefined);
  return { abort: () => undefined, eventLogs: (async function* () {})(), result };
}
