/**
 * The platform's one error model (a leaf module: cores, adapters and the edge all import it). A PlatformError
 * carries its reason code as `code` and as `name` (so a Step Functions Catch/Retry matches it), whether a retry
 * can help, and optionally a `detail` for the caller and the HTTP status it answers. The edge maps it once:
 * HTTP status and `{error: code, detail}`, a task error named by the code, a stream record retried or set aside.
 */

export interface PlatformErrorOptions {
  /** A retry can succeed (a dependency was unavailable); false for input that can never succeed. */
  retryable?: boolean;
  /** What the caller may see (HTTP 4xx body, the task error's message); the message stays the log line. */
  detail?: string;
  /** The HTTP status when it reaches an HTTP edge (default: 500, or 503 when retryable). */
  httpStatus?: number;
  cause?: unknown;
}

export class PlatformError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly retryable: boolean;
  readonly detail: string | undefined;
  readonly httpStatus: number | undefined;

  /** `message` defaults to `CODE: detail` (or the code alone). */
  constructor(code: Code, message?: string, options: PlatformErrorOptions = {}) {
    super(
      message ?? (options.detail === undefined ? code : `${code}: ${options.detail}`),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = code;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.detail = options.detail;
    this.httpStatus = options.httpStatus;
  }
}

/** Input that fails its schema (HTTP 400; a task error the state machine does not retry). */
export class RequestInvalid<Code extends string = 'REQUEST_INVALID'> extends PlatformError<Code> {
  constructor(code: Code, detail: string) {
    super(code, detail, { detail, httpStatus: 400 });
  }
}

/** Configuration that does not parse or is missing; the message names the key. */
export class ConfigInvalid extends PlatformError<'CONFIG_INVALID'> {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** A failure worth retrying (a dependency was unavailable): the record and the rest of its key are retried. */
export class RetryableError<Code extends string = 'RetryableError'> extends PlatformError<Code> {
  constructor(message: string, code: Code = 'RetryableError' as Code) {
    super(code, message, { retryable: true });
  }
}

/** A record that can never succeed: it goes to quarantine with evidence and is not retried. */
export class PoisonError<Code extends string = 'PoisonError'> extends PlatformError<Code> {
  constructor(message: string, code: Code = 'PoisonError' as Code) {
    super(code, message, { retryable: false });
  }
}

/** A state that should not be reachable (a row that vanished, an SDK answer without its field): a bug or a race. */
export class InvariantViolation extends PlatformError<'INVARIANT_VIOLATED'> {
  constructor(message: string) {
    super('INVARIANT_VIOLATED', message, { retryable: true });
  }
}

/** `path: message` of every issue of a failed schema parse, in one line (zod issues or any standard-schema ones). */
export function describeIssues(
  issues: readonly { path?: readonly PropertyKey[] | readonly unknown[]; message: string }[],
): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((p) => (typeof p === 'object' && p !== null && 'key' in p ? String(p.key) : String(p)))
        .join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
