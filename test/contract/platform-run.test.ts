import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlatformRunId, platformRunIdAt, platformRunInstant } from '../../lib/contracts/platform-run.ts';

const ID_SHAPE = /^platform_\d{8}T\d{6}Z$/;

/** Any instant from 1970-01-01 to the last millisecond of 9999, the range the id's four-digit year covers. */
const anyDate = fc.date({
  min: new Date('1970-01-01T00:00:00.000Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
  noInvalidDate: true,
});

const truncatedToSecond = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

describe('platform_run_id (contract)', () => {
  it('golden: 2026-11-22T02:29:32.123Z is platform_20261122T022932Z', () => {
    const id = platformRunIdAt(new Date('2026-11-22T02:29:32.123Z'));
    expect(id).toBe('platform_20261122T022932Z');
    expect(PlatformRunId.parse(id)).toBe(id);
    expect(platformRunInstant(id)?.toISOString()).toBe('2026-11-22T02:29:32.000Z');
  });

  it('any date in 1970-9999 yields a well-formed id that parses back to the date truncated to the second', () => {
    fc.assert(
      fc.property(anyDate, (at) => {
        const id = platformRunIdAt(at);
        expect(id).toMatch(ID_SHAPE);
        expect(PlatformRunId.safeParse(id).success).toBe(true);
        expect(platformRunInstant(id)?.getTime()).toBe(truncatedToSecond(at).getTime());
      }),
      { numRuns: 500 },
    );
  });

  it('ids of two instants in different seconds differ and sort like the instants', () => {
    fc.assert(
      fc.property(anyDate, anyDate, (a, b) => {
        const [ia, ib] = [platformRunIdAt(a), platformRunIdAt(b)];
        const [sa, sb] = [truncatedToSecond(a).getTime(), truncatedToSecond(b).getTime()];
        expect(ia === ib).toBe(sa === sb);
        expect(Math.sign(ia.localeCompare(ib))).toBe(Math.sign(sa - sb));
      }),
    );
  });

  it('accepts the last second of a leap day and of a year', () => {
    for (const id of [
      'platform_20240229T235959Z',
      'platform_99991231T235959Z',
      'platform_19700101T000000Z',
    ]) {
      expect(PlatformRunId.safeParse(id).success, id).toBe(true);
      expect(platformRunInstant(id), id).toBeInstanceOf(Date);
    }
  });

  it.each([
    ['month 13', 'platform_20261322T022932Z'],
    ['month 00', 'platform_20260022T022932Z'],
    ['day 32', 'platform_20260132T022932Z'],
    ['day 00', 'platform_20260100T022932Z'],
    ['Feb 30', 'platform_20260230T022932Z'],
    ['Feb 29 of a common year', 'platform_20250229T120000Z'],
    ['hour 24', 'platform_20261122T242932Z'],
    ['minute 60', 'platform_20261122T026032Z'],
    ['second 60 (no leap seconds)', 'platform_20261122T022960Z'],
  ])('rejects an id naming no real instant: %s', (_, id) => {
    expect(platformRunInstant(id)).toBeUndefined();
    const parsed = PlatformRunId.safeParse(id);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/no real UTC instant/);
  });

  it.each([
    ['wrong prefix', 'run_20261122T022932Z'],
    ['upper-case prefix', 'PLATFORM_20261122T022932Z'],
    ['lower-case z', 'platform_20261122T022932z'],
    ['lower-case t', 'platform_20261122t022932Z'],
    ['extra trailing chars', 'platform_20261122T022932Zx'],
    ['extra leading chars', ' platform_20261122T022932Z'],
    ['milliseconds kept', 'platform_20261122T022932.123Z'],
    ['ISO separators kept', 'platform_2026-11-22T02:29:32Z'],
    ['too few digits', 'platform_2026112T022932Z'],
    ['empty', ''],
  ])('rejects a malformed id: %s', (_, id) => {
    expect(platformRunInstant(id)).toBeUndefined();
    const parsed = PlatformRunId.safeParse(id);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/must look like platform_YYYYMMDDTHHMMSSZ/);
  });
});
