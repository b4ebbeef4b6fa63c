/**
 * The environment a handler module parses at cold start, set before the handler is imported (import this module
 * first). Values are the local stage's; no test here reaches a service: cores and port builders are mocked.
 */
Object.assign(process.env, {
  STAGE: 'local',
  ORACLE_STORE_BUCKET: 'oracle-store',
  PLATFORM_BUCKET: 'fraud-platform',
  REQUIRED_STREAMS: 'sr-control-bus',
  DATABASE_URL: 'postgres://handler-tests@127.0.0.1:1/none',
  S3_ENDPOINT: 'http://127.0.0.1:1',
  KINESIS_ENDPOINT: 'http://127.0.0.1:1',
  SFN_ENDPOINT: 'http://127.0.0.1:1',
  LAMBDA_ENDPOINT: 'http://127.0.0.1:1',
  LOG_LEVEL: 'ERROR',
  IG_API_KEYS: 'world_streamer=handler-test-key',
  SR_API_KEYS: 'handler-test-key',
  IG_URL: 'http://127.0.0.1:1',
  WSP_IG_API_KEY: 'handler-test-key',
  STREAM_RUN_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:stream-run',
  REQUIRED_CONSUMERS: 'world-streamer-ready-consumer',
  // Not the default (900), so a test sees the handler pass the configured value.
  RTDL_CAUGHT_UP_TIMEOUT_SECONDS: '600',
});
