/**
 * Delay before a failed task runs again: exponential from `baseMs`, capped at `capMs`, with full jitter in its upper
 * half (so a burst of failures does not come back at once, and no retry comes back immediately). Pure: `random` is
 * a number in [0, 1).
 */
export function retryDelayMs(run: number, random: number, opts: {baseMs: number; capMs: number}): number {
  const exp = Math.min(opts.capMs, opts.baseMs * 2 ** Math.max(0, Math.min(30, run - 1)))
  return Math.round(exp / 2 + (exp / 2) * Math.min(Math.max(random, 0), 1))
}
