import {describe, expect, it} from 'vitest'
import {checkTimeZone, instantsOf, nextRun, parseCron} from '../../../src/serve/schedules/cron.js'

const at = (iso: string) => Date.parse(iso)
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())
/** The next `n` runs after `from`. */
function runs(expr: string, zone: string, from: string, n: number): Array<string | undefined> {
  const c = parseCron(expr)
  const out: Array<string | undefined> = []
  let t = at(from)
  for (let i = 0; i < n; i++) {
    const next = nextRun(c, zone, t)
    out.push(iso(next))
    if (next === undefined) break
    t = next
  }
  return out
}

describe('parseCron', () => {
  it('reads lists, ranges, steps, names and macros', () => {
    const c = parseCron('*/15 9-17 1,15 jan-mar MON-FRI')
    expect([...c.minutes]).toEqual([0, 15, 30, 45])
    expect([...c.hours]).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17])
    expect([...c.days]).toEqual([1, 15])
    expect([...c.months]).toEqual([1, 2, 3])
    expect([...c.weekdays]).toEqual([1, 2, 3, 4, 5])
    expect(c.everyHour).toBe(false)
    expect([...parseCron('0 0 * * 7').weekdays]).toEqual([0])
    expect([...parseCron('5/20 * * * *').minutes]).toEqual([5, 25, 45])
    expect(parseCron('@daily').source).toBe('@daily')
    expect([...parseCron('@weekly').weekdays]).toEqual([0])
    expect(parseCron('* * * * *').everyHour).toBe(true)
  })

  it.each([
    ['* * * *', 'expected 5 fields'],
    ['60 * * * *', 'minute field "60": 60 is outside 0-59'],
    ['* 24 * * *', 'hour field "24": 24 is outside 0-23'],
    ['* * 0 * *', 'day of month field "0": 0 is outside 1-31'],
    ['* * * foo *', 'month field "foo": foo is not a number or a name'],
    ['*/0 * * * *', 'step "0" must be a whole number above 0'],
    ['5-1 * * * *', 'range 5-1 runs backwards'],
    ['1,,2 * * * *', 'an empty list item'],
    ['@reboot', '@reboot is not a known macro'],
  ])('refuses %s', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(message)
  })

  it('checks time zones', () => {
    expect(checkTimeZone('Europe/Berlin')).toBe('Europe/Berlin')
    expect(() => checkTimeZone('Mars/Olympus')).toThrow('timeZone: Mars/Olympus is not a known IANA time zone')
  })
})

describe('nextRun', () => {
  it('finds daily, hourly and minute runs in UTC', () => {
    expect(runs('0 2 * * *', 'UTC', '2026-12-03T20:00:00Z', 2)).toEqual(['2026-12-04T02:00:00.000Z', '2026-12-05T02:00:00.000Z'])
    expect(runs('* * * * *', 'UTC', '2026-12-03T20:00:30Z', 2)).toEqual(['2026-12-03T20:01:00.000Z', '2026-12-03T20:02:00.000Z'])
    expect(runs('30 * * * *', 'UTC', '2026-12-03T20:30:00Z', 1)).toEqual(['2026-12-03T21:30:00.000Z'])
  })

  it('runs in the given time zone', () => {
    // 02:00 in Berlin in winter is 01:00 UTC, in summer 00:00 UTC.
    expect(runs('0 2 * * *', 'Europe/Berlin', '2026-12-03T12:00:00Z', 1)).toEqual(['2026-12-04T01:00:00.000Z'])
    expect(runs('0 2 * * *', 'Europe/Berlin', '2026-07-01T12:00:00Z', 1)).toEqual(['2026-07-02T00:00:00.000Z'])
    expect(runs('0 9 * * 1-5', 'America/New_York', '2026-12-04T15:00:00Z', 1)).toEqual(['2026-12-07T14:00:00.000Z'])
  })

  it('ORs day of month and day of week when both are restricted', () => {
    // 2026-12-13 is a Sunday; the 15th a Tuesday.
    expect(runs('0 0 15 * 0', 'UTC', '2026-12-12T00:00:00Z', 2)).toEqual(['2026-12-13T00:00:00.000Z', '2026-12-15T00:00:00.000Z'])
  })

  it('a fixed-time job in the spring-forward gap runs once, shifted by the gap', () => {
    // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    expect(runs('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 3)).toEqual(['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z'])
    expect(instantsOf(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Berlin')).toEqual([])
  })

  it('a fixed-time job in the repeated hour runs once, at the first occurrence', () => {
    // Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens at 00:30 and at 01:30 UTC.
    expect(instantsOf(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Berlin')).toEqual([at('2026-10-25T00:30:00Z'), at('2026-10-25T01:30:00Z')])
    expect(runs('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'])
    // Asked from inside the second 02:xx hour: the next run is the next day's.
    expect(runs('30 2 * * *', 'Europe/Berlin', '2026-10-25T01:10:00Z', 1)).toEqual(['2026-10-26T01:30:00.000Z'])
  })

  it('an hourly interval skips the gap and runs in both repeated hours', () => {
    expect(runs('30 * * * *', 'Europe/Berlin', '2026-03-29T00:00:00Z', 2)).toEqual(['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z'])
    expect(runs('30 * * * *', 'Europe/Berlin', '2026-10-25T00:00:00Z', 3)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T02:30:00.000Z'])
    expect(runs('*/20 * * * *', 'America/New_York', '2026-11-01T05:50:00Z', 4)).toEqual(['2026-11-01T06:00:00.000Z', '2026-11-01T06:20:00.000Z', '2026-11-01T06:40:00.000Z', '2026-11-01T07:00:00.000Z'])
  })

  it('finds leap days and gives up on dates that never come', () => {
    expect(runs('0 0 29 2 *', 'UTC', '2026-12-03T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z'])
    expect(runs('0 0 30 2 *', 'UTC', '2026-12-03T00:00:00Z', 1)).toEqual([undefined])
  })
})
