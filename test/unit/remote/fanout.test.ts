import {describe, expect, it} from 'vitest'
import {fanOut, mapLimit} from '../../../src/remote/fanout.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('fanOut', () => {
  it('bounds concurrency, keeps input order, never rejects', async () => {
    let active = 0
    let peak = 0
    const hosts = Array.from({length: 12}, (_, i) => `h${i}`)
    const results = await fanOut(hosts, 3, async (host, i) => {
      active++
      peak = Math.max(peak, active)
      await sleep(5 + ((i * 7) % 11))
      active--
      if (i % 4 === 1) throw new Error(`boom ${host}`)
      return i * 10
    })
    expect(peak).toBe(3)
    expect(results.map((r) => r.host)).toEqual(hosts)
    for (const [i, r] of results.entries()) {
      if (i % 4 === 1) expect(r).toMatchObject({ok: false, error: expect.objectContaining({message: `boom h${i}`})})
      else expect(r).toMatchObject({ok: true, value: i * 10})
      expect(r.ms).toBeGreaterThanOrEqual(0)
    }
  })

  it('handles empty input, limit larger than input, non-Error throws and a zero limit', async () => {
    expect(await fanOut([], 4, async () => 1)).toEqual([])
    const r = await fanOut(['a', 'b'], 100, async (h) => {
      if (h === 'b') throw 'string thrown'
      return h
    })
    expect(r[1]!.error).toBeInstanceOf(Error)
    expect(r[1]!.error!.message).toBe('string thrown')
    expect((await fanOut(['a', 'b'], 0, async (h) => h)).map((x) => x.value)).toEqual(['a', 'b'])
  })
})

describe('mapLimit', () => {
  it('maps in order with bounded concurrency', async () => {
    let active = 0
    let peak = 0
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      active++
      peak = Math.max(peak, active)
      await sleep(n * 3)
      active--
      return n * 2
    })
    expect(out).toEqual([10, 2, 8, 4, 6])
    expect(peak).toBe(2)
  })

  it('rejects with the first error after started calls settle, and starts no new ones', async () => {
    const started: number[] = []
    const settled: number[] = []
    const p = mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n)
      await sleep(n === 0 ? 5 : 30)
      settled.push(n)
      if (n === 0) throw new Error('first')
      return n
    })
    await expect(p).rejects.toThrow('first')
    expect(started).toEqual([0, 1])
    expect(settled.sort()).toEqual([0, 1])
  })
})
