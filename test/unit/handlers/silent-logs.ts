/**
 * Import (for its effect) right after handler-environment.ts, before the handlers: the loggers they build at import
 * write nothing — the Lambda log-level control, which Powertools puts above the configured LOG_LEVEL. For tests that
 * provoke failures on purpose (the fuzz runs' store outages: thousands of ERROR lines otherwise). Delete
 * AWS_LAMBDA_LOG_LEVEL once the handlers are imported, so loggers built later log as usual.
 */
process.env.AWS_LAMBDA_LOG_LEVEL = 'SILENT';
