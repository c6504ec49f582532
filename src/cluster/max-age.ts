import {UsageError} from '../remote/errors.js'

const UNIT_SECONDS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800}
const DURATION_RE = /^(?:\d+[smhdw])+$/

/** '90m', '4h', '1h30m', '2d', '1w' -> seconds. Bad input is a usage error naming the flag. */
export function parseDuration(text: string, what = '--max-age'): number {
  const value = text.trim().toLowerCase()
  if (!DURATION_RE.test(value)) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: use a duration like 90m, 4h, 1h30m, 2d or 1w`)
  let seconds = 0
  for (const [, n, unit] of value.matchAll(/(\d+)([smhdw])/g)) seconds += Number(n) * UNIT_SECONDS[unit]
  if (seconds < 1 || seconds > 365 * 86_400) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: use from 1s to 365d`)
  return seconds
}

/** Seconds -> the shortest '1d2h', '1h30m', '45m' or '30s' form (rounded down to whole minutes above an hour). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  if (s < 60) return `${s}s`
  const parts: string[] = []
  let rest = s
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) parts.push(`${n}${unit}`)
  }
  if (s < 3600 && rest > 0) parts.push(`${rest}s`)
  return parts.join('')
}

/** A max age as a cloud keeps it (a tag, metadata) in seconds; undefined when absent or not a duration. */
export function recordedMaxAge(value: string | undefined): number | undefined {
  if (!value) return undefined
  try {
    return parseDuration(value)
  } catch {
    return undefined
  }
}

/** A cluster is expired once it has lived longer than its max age. */
export function isExpired(ageSeconds: number | undefined, maxAgeSeconds: number | undefined): boolean {
  return ageSeconds !== undefined && maxAgeSeconds !== undefined && ageSeconds > maxAgeSeconds
}
