import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { EngineEvent, JsonValue } from './engine.ts';

/** One history event without its id/timestamp, keyed exactly as the SFN JSON API spells it. */
export type HistoryEventBody = Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'> & {
  type: HistoryEventType;
};

export interface StoredHistoryEvent {
  id: number;
  previousEventId: number;
  timestampMs: number;
  body: HistoryEventBody;
}

/** AWS's quota: a STANDARD execution whose history reaches 25,000 events fails (a hard quota). */
export const AWS_MAX_HISTORY_EVENTS = 25_000;

/** What AWS records when the quota is reached: the last event it admits is this ExecutionFailed. */
export interface HistoryLimitFailure {
  error: 'States.Runtime';
  cause: string;
}

const FINAL_EVENT_TYPES: ReadonlySet<HistoryEventType> = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
]);

export interface HistoryLimit {
  /** The most events one execution may have, its final event included. */
  maxEvents: number;
  /** Called once, when the limit is reached: the execution must stop and start no further task. */
  onReached(): void;
}

/**
 * Events of one execution, in the order they happened; closed once the execution reaches a final state. As on AWS,
 * an event that would take the last place under the limit is replaced by ExecutionFailed (States.Runtime), which
 * closes the history; a final event may still take that place.
 */
export class ExecutionHistory {
  readonly #events: StoredHistoryEvent[] = [];
  #closed = false;
  #limitFailure: HistoryLimitFailure | undefined;

  constructor(private readonly limit: HistoryLimit) {
    if (!Number.isInteger(limit.maxEvents) || limit.maxEvents < 2)
      throw new Error(`maxEvents must be an integer of at least 2, not ${limit.maxEvents}`);
  }

  append(body: HistoryEventBody, timestampMs = Date.now()): void {
    if (this.#closed) return; // e.g. a Lambda that finishes after StopExecution
    if (this.#events.length + 1 >= this.limit.maxEvents && !FINAL_EVENT_TYPES.has(body.type)) {
      this.#reachLimit(timestampMs);
      return;
    }
    this.#push(body, timestampMs);
  }

  close(): void {
    this.#closed = true;
  }

  get events(): readonly StoredHistoryEvent[] {
    return this.#events;
  }

  /** Set once the execution has failed for reaching the limit. */
  get limitFailure(): HistoryLimitFailure | undefined {
    return this.#limitFailure;
  }

  #reachLimit(timestampMs: number): void {
    const failure: HistoryLimitFailure = {
      error: 'States.Runtime',
      cause: `The execution reached the maximum number of history events (${this.limit.maxEvents}).`,
    };
    this.#limitFailure = failure;
    this.#push({ type: 'ExecutionFailed', executionFailedEventDetails: { ...failure } }, timestampMs);
    this.#closed = true;
    this.limit.onReached();
  }

  #push(body: HistoryEventBody, timestampMs: number): void {
    const id = this.#events.length + 1;
    this.#events.push({ id, previousEventId: id - 1, timestampMs, body });
  }
}

/**
 * The engine hands its events over through chains of microtasks (nested Map/Parallel machines forward
 * to the root logger). Task handlers await this before recording their own events, so that every engine
 * event dispatched earlier is already in the history and the order is the order things happened.
 */
export function afterEngineEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const jsonText = (value: JsonValue | undefined): string => JSON.stringify(value ?? null);

const dataDetails = { truncated: false };

export interface TranslationContext {
  roleArn: string;
  states: ReadonlyMap<string, Record<string, unknown>>;
  stopReason(): { error?: string; cause?: string };
}

/** Translates the engine's event log into AWS history event types (see the table in each case). */
export class EngineEventTranslator {
  // Map/Parallel states that failed and were then caught: their StateExited is not a success.
  readonly #failed = new Set<string>();

  constructor(private readonly context: TranslationContext) {}

  translate(event: EngineEvent): HistoryEventBody[] {
    switch (event.type) {
      case 'ExecutionStarted':
        return [
          {
            type: 'ExecutionStarted',
            executionStartedEventDetails: {
              input: jsonText(event.input),
              inputDetails: dataDetails,
              roleArn: this.context.roleArn,
            },
          },
        ];
      case 'ExecutionSucceeded':
        return [
          {
            type: 'ExecutionSucceeded',
            executionSucceededEventDetails: { output: jsonText(event.output), outputDetails: dataDetails },
          },
        ];
      case 'ExecutionFailed':
        return [{ type: 'ExecutionFailed', executionFailedEventDetails: errorDetails(event) }];
      case 'ExecutionAborted':
        return [{ type: 'ExecutionAborted', executionAbortedEventDetails: this.context.stopReason() }];
      case 'ExecutionTimeout':
        return [{ type: 'ExecutionTimedOut', executionTimedOutEventDetails: { error: 'States.Timeout' } }];
      case 'StateEntered':
        return this.#entered(event.state.name, event.state.type, event.state.input, event.index);
      case 'StateExited':
        return this.#exited(event.state.name, event.state.type, event.state.output, event.index);
      case 'StateFailed': {
        const { name, type } = event.state;
        if (type !== 'Map' && type !== 'Parallel') return []; // AWS has no <Type>StateFailed for the others
        this.#failed.add(stateKey(name, event.index));
        return [{ type: type === 'Map' ? 'MapStateFailed' : 'ParallelStateFailed' }];
      }
      case 'StateRetried':
        this.#failed.delete(stateKey(event.state.name, event.index));
        return []; // AWS shows retries as repeated scheduling, not as an event of their own
      case 'StateCaught':
        return [];
      case 'MapIterationStarted':
        return [{ type: 'MapIterationStarted', mapIterationStartedEventDetails: iteration(event) }];
      case 'MapIterationSucceeded':
        return [{ type: 'MapIterationSucceeded', mapIterationSucceededEventDetails: iteration(event) }];
      case 'MapIterationFailed':
        return [{ type: 'MapIterationFailed', mapIterationFailedEventDetails: iteration(event) }];
      // AWS records Parallel as a whole (Started/Succeeded/Failed), not per branch.
      case 'ParallelBranchStarted':
      case 'ParallelBranchSucceeded':
      case 'ParallelBranchFailed':
        return [];
    }
  }

  #entered(name: string, type: string, input: JsonValue, index: number | undefined): HistoryEventBody[] {
    this.#failed.delete(stateKey(name, index));
    const entered: HistoryEventBody = {
      type: `${type}StateEntered` as HistoryEventType,
      stateEnteredEventDetails: { name, input: jsonText(input), inputDetails: dataDetails },
    };
    if (type === 'Parallel') return [entered, { type: 'ParallelStateStarted' }];
    if (type !== 'Map') return [entered];
    const length = mapLength(this.context.states.get(name), input);
    return [
      entered,
      { type: 'MapStateStarted', mapStateStartedEventDetails: length === undefined ? {} : { length } },
    ];
  }

  #exited(
    name: string,
    type: string,
    output: JsonValue | undefined,
    index: number | undefined,
  ): HistoryEventBody[] {
    const exited: HistoryEventBody = {
      type: `${type}StateExited` as HistoryEventType,
      stateExitedEventDetails: { name, output: jsonText(output), outputDetails: dataDetails },
    };
    const caughtFailure = this.#failed.delete(stateKey(name, index));
    if (type === 'Map' || type === 'Parallel') {
      return caughtFailure ? [exited] : [{ type: `${type}StateSucceeded` as HistoryEventType }, exited];
    }
    return [exited];
  }
}

const stateKey = (name: string, index: number | undefined): string => `${name}#${index ?? ''}`;

function errorDetails(event: { Error: string; Cause: unknown }): { error: string; cause: string } {
  return {
    error: event.Error,
    cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause),
  };
}

function iteration(event: { parentState: { name: string }; index: number }): { name: string; index: number } {
  return { name: event.parentState.name, index: event.index };
}

/** Number of items a Map state iterates over, for simple `$` / `$.a.b` InputPath and ItemsPath only. */
function mapLength(state: Record<string, unknown> | undefined, input: JsonValue): number | undefined {
  let value: unknown = input;
  for (const path of [state?.InputPath, state?.ItemsPath]) {
    if (path === undefined || path === '$') continue;
    if (typeof path !== 'string' || !/^\$(\.[A-Za-z_][\w-]*)+$/.test(path)) return undefined;
    for (const key of path.slice(2).split('.')) {
      value =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? Reflect.get(value, key)
          : undefined;
    }
  }
  return Array.isArray(value) ? value.length : undefined;
}
