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

/** Events of one execution, in the order they happened; closed once the execution reaches a final state. */
export class ExecutionHistory {
  readonly #events: StoredHistoryEvent[] = [];
  #closed = false;

  append(body: HistoryEventBody, timestampMs = Date.now()): void {
    if (this.#closed) return; // e.g. a Lambda that finishes after StopExecution
    const id = this.#events.length + 1;
    this.#events.push({ id, previousEventId: id - 1, timestampMs, body });
  }

  close(): void {
    this.#closed = true;
  }

  get events(): readonly StoredHistoryEvent[] {
    return this.#events;
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
