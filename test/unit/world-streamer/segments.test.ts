import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/runtime/config.ts';
import {
  settingsFromEnvironment,
  WorldStreamerEnvironment,
} from '../../../lib/runtime/world-streamer-config.ts';
import {
  MAX_CHUNKS_PER_SEGMENT,
  MAX_HISTORY_EVENTS_PER_CHUNK,
  outputChunksPerSegment,
  roundHistoryEvents,
  SEGMENT_HISTORY_EVENTS,
  SEGMENT_NAME_PREFIX_MAX,
  segmentExecutionName,
  segmentNamePrefix,
} from '../../../lib/world-streamer/segments.ts';
import { sha } from './stream-fixture.ts';

/** AWS execution names: 1–80 characters, none of whitespace or `<>{}[]?*"#%\^|~`$&,;:/` (nor control characters). */
const AWS_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
const MESSAGE_ID = sha('ready');

describe('segments of a stream session (stream-output executions)', () => {
  it('names a session’s segments after the session: the message_id, or `{message_id}-{attempt}`', () => {
    expect(segmentNamePrefix(MESSAGE_ID)).toBe(MESSAGE_ID);
    expect(segmentNamePrefix(`${MESSAGE_ID}-12`)).toBe(`${MESSAGE_ID}-12`);
    expect(segmentExecutionName(MESSAGE_ID, 41)).toBe(`${MESSAGE_ID}-41`);
  });

  it('any session id gives valid AWS names of at most 80 characters, distinct per segment', () => {
    const sessionId = fc.stringMatching(/^[0-9A-Za-z_-]{1,80}$/);
    fc.assert(
      fc.property(sessionId, fc.nat(9_999_999), fc.nat(9_999_999), (session, segment, otherSegment) => {
        const prefix = segmentNamePrefix(session);
        expect(prefix.length).toBeLessThanOrEqual(SEGMENT_NAME_PREFIX_MAX);
        const name = segmentExecutionName(prefix, segment);
        expect(name).toMatch(AWS_NAME);
        expect(name === segmentExecutionName(prefix, otherSegment)).toBe(segment === otherSegment);
      }),
    );
  });

  it('a session id too long for the indexes is replaced by the start of its sha256, still one per session', () => {
    const long = 'x'.repeat(80);
    expect(segmentNamePrefix(long)).toBe(sha(long).slice(0, SEGMENT_NAME_PREFIX_MAX));
    expect(segmentNamePrefix(long)).not.toBe(segmentNamePrefix(`${'x'.repeat(79)}y`));
  });

  it('the largest segment, every chunk pacing and retried to its last attempt, stays below 25,000 events', () => {
    // The four parity outputs: at most `share` rounds (each output streaming runs a chunk a round), share chunks each.
    for (const outputs of [1, 2, 4, 6, 12]) {
      const share = outputChunksPerSegment(MAX_CHUNKS_PER_SEGMENT, outputs);
      const worst =
        SEGMENT_HISTORY_EVENTS +
        share * roundHistoryEvents(outputs) +
        share * outputs * MAX_HISTORY_EVENTS_PER_CHUNK;
      expect(worst, `${outputs} outputs`).toBeLessThan(25_000);
    }
    expect(outputChunksPerSegment(500, 4)).toBe(125);
  });

  it('WSP_CHUNKS_PER_SEGMENT: 500 by default, 1 to the maximum, anything else refused naming the key', () => {
    const environment = (extra: Record<string, string>) =>
      parseConfig(WorldStreamerEnvironment, {
        IG_URL: 'http://127.0.0.1:3000',
        WSP_IG_API_KEY: 'k',
        STREAM_RUN_STATE_MACHINE_ARN:
          'arn:aws:states:us-east-1:000000000000:stateMachine:fraud-platform-dev-stream-run',
        ...extra,
      });
    expect(settingsFromEnvironment(environment({}), 'dev').chunksPerSegment).toBe(500);
    expect(
      settingsFromEnvironment(environment({ WSP_CHUNKS_PER_SEGMENT: '3' }), 'dev').chunksPerSegment,
    ).toBe(3);
    for (const bad of ['0', String(MAX_CHUNKS_PER_SEGMENT + 1), 'many'])
      expect(() => environment({ WSP_CHUNKS_PER_SEGMENT: bad }), bad).toThrow(/WSP_CHUNKS_PER_SEGMENT: /);
  });
});
