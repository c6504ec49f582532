import {afterEach, describe, expect, it, vi} from 'vitest'
import {pollJobs} from '../../../src/jobs/states.js'
import type {JobView} from '../../../src/output/results.js'

const view = (state: JobView['state']): JobView => ({id: 'j1', name: 'pi', cluster: 'c', kind: 'python', state, createdAt: '2026-12-05T00:00:00Z', retries: 0, priority: 0, attempts: []})

/** Runs pollJobs over a job that ends on the `endsAt`-th look; returns the pauses it asked for between looks (each taken at once). */
async function pauses(endsAt: number, opts?: {maxIntervalMs?: number}): Promise<{delays: number[]; looks: number; final: JobView['state']}> {
  const delays: number[] = []
  const real = globalThis.setTimeout
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    delays.push(ms ?? 0)
    return real(fn, 0)
  }) as typeof setTimeout)
  let looks = 0
  const views = await pollJobs(['j1'], async () => view(++looks >= endsAt ? 'SUCCEEDED' : 'RUNNING'), 3_600_000, () => undefined, opts)
  return {delays, looks, final: views[0]!.state}
}

describe('pollJobs', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('backs off from half a second to at most one second between looks, and stops at the end state', async () => {
    const r = await pauses(10)
    expect(r.final).toBe('SUCCEEDED')
    expect(r.looks).toBe(10)
    expect(r.delays).toEqual([500, 600, 700, 800, 900, 1000, 1000, 1000, 1000])
  })

  it('keeps to a lower ceiling where an engine asks for one (a cheap look)', async () => {
    const r = await pauses(5, {maxIntervalMs: 250})
    expect(r.looks).toBe(5)
    expect(r.delays).toEqual([250, 250, 250, 250])
  })
})
