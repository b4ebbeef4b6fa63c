// The one module that imports aws-local-stepfunctions; the polyfill must be evaluated first.
import './polyfill.ts';
import { StateMachine } from 'aws-local-stepfunctions';

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
