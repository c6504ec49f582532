import {describe, expect, it} from 'vitest'
import {retryDelayMs} from '../../../src/serve/queue/backoff.js'

const opts = {baseMs: 1000, capMs: 60_000}

describe('retryDelayMs', () => {
  it('grows exponentially from the base, run after run (random 0: the lower bound, half of it)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((run) => retryDelayMs(run, 0, opts))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000])
  })

  it('random near 1 gives the full exponential delay; random 0.5 three quarters of it', () => {
    expect([1, 2, 3, 4].map((run) => retryDelayMs(run, 0.999_999, opts))).toEqual([1000, 2000, 4000, 8000])
    expect(retryDelayMs(3, 0.5, opts)).toBe(3000)
  })

  it('is capped at capMs, however many runs (no overflow for huge run counts)', () => {
    expect(retryDelayMs(7, 0.999_999, opts)).toBe(60_000)
    expect(retryDelayMs(40, 0.999_999, opts)).toBe(60_000)
    expect(retryDelayMs(1_000_000, 0.999_999, opts)).toBe(60_000)
    expect(retryDelayMs(1_000_000, 0, opts)).toBe(30_000)
  })

  it('stays within [exp/2, exp] for any random, clamping values outside [0, 1]', () => {
    for (let run = 1; run <= 12; run++) {
      const exp = Math.min(60_000, 1000 * 2 ** (run - 1))
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999_999]) {
        const d = retryDelayMs(run, r, opts)
        expect(d).toBeGreaterThanOrEqual(exp / 2)
        expect(d).toBeLessThanOrEqual(exp)
      }
    }
    expect(retryDelayMs(2, -5, opts)).toBe(1000)
    expect(retryDelayMs(2, 7, opts)).toBe(2000)
  })

  it('run 0 (or less) counts as the first', () => {
    expect(retryDelayMs(0, 0, opts)).toBe(500)
    expect(retryDelayMs(-3, 0.999_999, opts)).toBe(1000)
  })

  it('is never 0, even with a 1 ms base and random 0', () => {
    expect(retryDelayMs(1, 0, {baseMs: 1, capMs: 1})).toBe(1)
    expect(retryDelayMs(1, 0, {baseMs: 3, capMs: 100})).toBe(2)
    for (let run = 1; run < 40; run++) expect(retryDelayMs(run, 0, {baseMs: 1, capMs: 10_000})).toBeGreaterThan(0)
  })
})
