import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {Loop} from '../../../src/serve/loop.js'

describe('Loop', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  async function stepsAfter(loop: Loop, ms: number, steps: number[]): Promise<number> {
    await vi.advanceTimersByTimeAsync(ms)
    return steps.length
  }

  it('runs a step at start, then every interval', async () => {
    const steps: number[] = []
    const loop = new Loop('t', 1000, async () => void steps.push(Date.now()), () => undefined)
    loop.start()
    expect(await stepsAfter(loop, 10, steps)).toBe(1)
    expect(await stepsAfter(loop, 980, steps)).toBe(1)
    expect(await stepsAfter(loop, 20, steps)).toBe(2)
    await loop.stop()
  })

  it('runs the next step sooner when a step asks for it, never sooner than the minimum gap', async () => {
    const steps: number[] = []
    // What each step returns: 300 ms, then 5 ms (held to the 100 ms gap), then nothing (the 2 s interval).
    const asks: Array<number | undefined> = [300, 5, undefined]
    const loop = new Loop('t', 2000, async () => (steps.push(Date.now()), asks.shift()), () => undefined)
    loop.start()
    expect(await stepsAfter(loop, 10, steps)).toBe(1)
    expect(await stepsAfter(loop, 280, steps)).toBe(1)
    expect(await stepsAfter(loop, 20, steps)).toBe(2)
    expect(await stepsAfter(loop, 80, steps)).toBe(2)
    expect(await stepsAfter(loop, 20, steps)).toBe(3)
    expect(await stepsAfter(loop, 1950, steps)).toBe(3)
    expect(await stepsAfter(loop, 100, steps)).toBe(4)
    await loop.stop()
  })

  it('coalesces a burst of pokes into one step', async () => {
    const steps: number[] = []
    const loop = new Loop('t', 10_000, async () => void steps.push(Date.now()), () => undefined)
    loop.start()
    await vi.advanceTimersByTimeAsync(200)
    for (let i = 0; i < 50; i++) loop.poke()
    expect(await stepsAfter(loop, 150, steps)).toBe(2)
    await loop.stop()
  })

  it('keeps going after a failed step and reports it once', async () => {
    const lines: string[] = []
    const loop = new Loop('t', 100, async () => Promise.reject(new Error('boom\nmore')), (l) => lines.push(l))
    loop.start()
    await vi.advanceTimersByTimeAsync(350)
    expect(lines).toEqual(['t: boom'])
    expect(loop.lastError).toBe('boom')
    expect(loop.healthy(Date.now(), 1000)).toBe(false)
    await loop.stop()
  })
})
