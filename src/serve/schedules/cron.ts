import {UsageError} from '../../remote/errors.js'

/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week) evaluated in an IANA time zone, with
 * the rules of Vixie cron where daylight saving time moves the clock:
 *   - a job with a fixed hour whose wall time does not exist that day (the spring-forward gap) runs shifted by the
 *     gap (02:30 -> 03:30 in Europe/Berlin), as Temporal's "compatible" disambiguation does;
 *   - a job with a fixed hour whose wall time occurs twice (fall back) runs once, at the first occurrence;
 *   - a job whose hour field is `*` runs at every real instant whose wall time matches: nothing in the gap, twice in
 *     the repeated hour (it is an interval, not a time of day).
 * Day-of-month and day-of-week: when both are restricted a day matching either runs (as in every cron).
 */
export interface Cron {
  readonly source: string
  readonly minutes: ReadonlySet<number>
  readonly hours: ReadonlySet<number>
  readonly days: ReadonlySet<number>
  readonly months: ReadonlySet<number>
  /** 0 = Sunday. */
  readonly weekdays: ReadonlySet<number>
  readonly anyDay: boolean
  readonly anyWeekday: boolean
  /** The hour field is `*`: the schedule is an interval (see above). */
  readonly everyHour: boolean
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

interface FieldSpec {
  name: string
  min: number
  max: number
  names?: string[]
  /** Where names start counting (months: 1). */
  nameBase?: number
}
const FIELDS: FieldSpec[] = [
  {name: 'minute', min: 0, max: 59},
  {name: 'hour', min: 0, max: 23},
  {name: 'day of month', min: 1, max: 31},
  {name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1},
  {name: 'day of week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0},
]

/** Parses a cron expression; a bad one is a UsageError naming the field and the problem. */
export function parseCron(expression: string): Cron {
  const source = expression.trim()
  const expanded = source.startsWith('@') ? MACROS[source.toLowerCase()] : source
  if (!expanded) throw new UsageError(`cron: ${source} is not a known macro (known: ${Object.keys(MACROS).join(', ')})`)
  const parts = expanded.split(/\s+/)
  if (parts.length !== 5) throw new UsageError(`cron: expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length} in "${source}"`)
  const sets = parts.map((p, i) => parseField(p, FIELDS[i]!))
  const weekdays = new Set([...sets[4]!].map((d) => d % 7))
  return {
    source,
    minutes: sets[0]!,
    hours: sets[1]!,
    days: sets[2]!,
    months: sets[3]!,
    weekdays,
    anyDay: parts[2] === '*' || parts[2] === '?',
    anyWeekday: parts[4] === '*' || parts[4] === '?',
    everyHour: parts[1] === '*' || /^\*\/1$/.test(parts[1]!),
  }
}

function parseField(text: string, f: FieldSpec): Set<number> {
  const out = new Set<number>()
  const bad = (why: string) => new UsageError(`cron: ${f.name} field "${text}": ${why}`)
  const value = (s: string): number => {
    const i = f.names?.indexOf(s.toLowerCase()) ?? -1
    if (i >= 0) return i + (f.nameBase ?? 0)
    if (!/^\d+$/.test(s)) throw bad(`${s} is not a number${f.names ? ' or a name' : ''}`)
    const n = Number(s)
    if (n < f.min || n > f.max) throw bad(`${n} is outside ${f.min}-${f.max}`)
    return n
  }
  for (const item of text.split(',')) {
    if (item === '') throw bad('an empty list item')
    const [range, stepText, extra] = item.split('/')
    if (extra !== undefined) throw bad(`"${item}" has more than one /`)
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) && Number(stepText) > 0 ? Number(stepText) : NaN
    if (Number.isNaN(step)) throw bad(`step "${stepText}" must be a whole number above 0`)
    let lo: number
    let hi: number
    if (range === '*' || (range === '?' && (f.name === 'day of month' || f.name === 'day of week'))) {
      lo = f.min
      hi = f.max
    } else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-')
      if (more !== undefined || !a || !b) throw bad(`"${range}" is not a range (a-b)`)
      lo = value(a)
      hi = value(b)
      if (lo > hi) throw bad(`range ${range} runs backwards`)
    } else {
      lo = value(range!)
      hi = stepText === undefined ? lo : f.max
    }
    for (let v = lo; v <= hi; v += step) out.add(v)
  }
  return out
}

/** Throws a UsageError unless `zone` is an IANA time zone this runtime knows. */
export function checkTimeZone(zone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', {timeZone: zone})
    return zone
  } catch {
    throw new UsageError(`timeZone: ${zone} is not a known IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`)
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric'})
    formatters.set(zone, f)
  }
  return f
}

/** The wall-clock time in `zone` at `instant`, as milliseconds of a UTC calendar ("wall ms"), to the minute. */
export function wallMinute(instant: number, zone: string): number {
  const p: Record<string, number> = {}
  for (const part of formatter(zone).formatToParts(new Date(instant))) if (part.type !== 'literal') p[part.type] = Number(part.value)
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!)
}

/** The zone's offset from UTC (ms) at `instant`. */
function offsetAt(instant: number, zone: string): number {
  const minute = Math.floor(instant / 60_000) * 60_000
  return wallMinute(minute, zone) - minute
}

/** The real instants whose wall time in `zone` is `wall` (0 in a gap, 2 in a repeated hour), earliest first. */
export function instantsOf(wall: number, zone: string): number[] {
  const offsets = new Set([offsetAt(wall - 86_400_000, zone), offsetAt(wall, zone), offsetAt(wall + 86_400_000, zone)])
  const found = new Set<number>()
  for (const o of offsets) {
    const t = wall - o
    if (wallMinute(t, zone) === wall) found.add(t)
  }
  return [...found].sort((a, b) => a - b)
}

const MINUTE = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000

function dayMatches(c: Cron, d: Date): boolean {
  const dom = c.days.has(d.getUTCDate())
  const dow = c.weekdays.has(d.getUTCDay())
  if (c.anyDay && c.anyWeekday) return true
  if (c.anyDay) return dow
  if (c.anyWeekday) return dom
  return dom || dow
}

/** The first wall minute at or after `wall` that the expression matches (a naive calendar: no time zone). */
function nextWall(c: Cron, wall: number, limit: number): number | undefined {
  let t = wall
  for (let i = 0; i < 100_000 && t <= limit; i++) {
    const d = new Date(t)
    if (!c.months.has(d.getUTCMonth() + 1)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
    } else if (!dayMatches(c, d)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + DAY
    } else if (!c.hours.has(d.getUTCHours())) {
      t = Math.floor(t / HOUR) * HOUR + HOUR
    } else if (!c.minutes.has(d.getUTCMinutes())) {
      t += MINUTE
    } else {
      return t
    }
  }
  return undefined
}

/**
 * The first instant strictly after `after` at which the schedule runs in `zone`, or undefined when there is none
 * within eight years (e.g. 30 February).
 */
export function nextRun(c: Cron, zone: string, after: number): number | undefined {
  const limit = after + 8 * 366 * DAY
  // Every instant after `after` has a wall time of at least `after` plus the smallest offset that follows it: in a
  // repeated hour that is behind the wall clock of `after` itself.
  let wall = Math.floor((after + Math.min(offsetAt(after, zone), offsetAt(after + DAY, zone))) / MINUTE) * MINUTE
  for (let i = 0; i < 10_000; i++) {
    const w = nextWall(c, wall, limit + DAY)
    if (w === undefined) return undefined
    const instants = instantsOf(w, zone)
    let candidates: number[]
    if (instants.length === 0) {
      // The gap: an interval-like job skips it; a time-of-day job runs shifted forward by the gap.
      candidates = c.everyHour ? [] : [w - offsetAt(w - DAY, zone)]
    } else {
      candidates = c.everyHour ? instants : [instants[0]!]
    }
    const hit = candidates.find((t) => t > after)
    if (hit !== undefined) return hit
    wall = w + MINUTE
  }
  return undefined
}
