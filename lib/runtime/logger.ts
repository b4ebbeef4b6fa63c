import { Logger } from '@aws-lambda-powertools/logger';

/** `scheme://user:password@host`: the credentials part of a URL (a DSN in a driver's error message, say). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]*@/gi;

/** Every string a log line holds passes here: credentials inside URLs never reach the logs. */
export function redactLogValue(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replace(URL_CREDENTIALS, '$1***:***@') : value;
}

/** Structured JSON logger (Powertools): one JSON object a line, service and level from the environment. */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName,
    logLevel: (process.env.LOG_LEVEL as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined) ?? 'INFO',
    jsonReplacerFn: redactLogValue,
  });
}
