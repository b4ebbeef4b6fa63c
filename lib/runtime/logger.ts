import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logger (Powertools): one JSON object a line, service and level from the environment. */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName,
    logLevel: (process.env.LOG_LEVEL as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined) ?? 'INFO',
  });
}
