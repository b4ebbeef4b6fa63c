/**
 * What a Task handler throws: the engine matches Retry/Catch on `.name` and uses `.message` as the Cause.
 * (No `cause` option: the engine would prefer it to the message.)
 */
export class TaskFailure extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

/** States.Runtime: like AWS, neither retried nor caught, even by States.ALL; the execution fails. */
export class RuntimeFailure extends TaskFailure {
  // Read by the engine's Retry/Catch matching (its own RuntimeError exposes the same getters).
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(cause: string) {
    super('States.Runtime', cause);
  }
}
