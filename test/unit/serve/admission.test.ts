import {describe, expect, it} from 'vitest'
import {admit, type Candidate, type ClusterLoad} from '../../../src/serve/queue/admission.js'
import type {Capacity} from '../../../src/serve/queue/capacity.js'

const cap = (cores: number, memoryMb: number, usedCores = 0, usedMemoryMb = 0): Capacity => ({cores, memoryMb, usedCores, usedMemoryMb})
const load = (over: Partial<ClusterLoad> = {}): ClusterLoad => ({reserved: {cores: 0, memoryMb: 0}, running: 0, ...over})
const task = (id: string, clusters: string | string[], cores = 1, memoryMb = 1024): Candidate => ({id, clusters: typeof clusters === 'string' ? [clusters] : clusters, demand: {cores, memoryMb}})
const loads = (entries: Record<string, ClusterLoad>) => new Map(Object.entries(entries))

describe('admit: order and capacity', () => {
  it('picks in the order the candidates come (priority first), all on the one cluster with room', () => {
    const r = admit([task('c', 'c1'), task('a', 'c1'), task('b', 'c1')], loads({c1: load({capacity: cap(8, 8192)})}))
    expect(r.picks).toEqual([
      {id: 'c', cluster: 'c1'},
      {id: 'a', cluster: 'c1'},
      {id: 'b', cluster: 'c1'},
    ])
    expect([...r.waits]).toEqual([])
  })

  it('free = cores - max(engine used, reserved): the larger of the two counts, not their sum', () => {
    // Reserved (the service's own) is the larger: 8 - max(2, 5) = 3 cores free.
    const r1 = admit([task('a', 'c1', 3, 1024), task('b', 'c1', 1, 1024)], loads({c1: load({capacity: cap(8, 16384, 2, 0), reserved: {cores: 5, memoryMb: 0}, running: 2})}))
    expect(r1.picks).toEqual([{id: 'a', cluster: 'c1'}])
    expect(r1.waits.get('b')).toBe('waiting for 1 core and 1024 MiB on c1 (free: 0 cores and 15360 MiB)')
    // The engine's figure is the larger: 8 - max(6, 1) = 2 cores free.
    const r2 = admit([task('a', 'c1', 3, 512)], loads({c1: load({capacity: cap(8, 16384, 6, 4096), reserved: {cores: 1, memoryMb: 1024}})}))
    expect(r2.picks).toEqual([])
    expect(r2.waits.get('a')).toBe('waiting for 3 cores and 512 MiB on c1 (free: 2 cores and 12288 MiB)')
    // Both report the same running work: counted once, 8 - max(4, 4) = 4 free.
    const r3 = admit([task('a', 'c1', 4, 1024)], loads({c1: load({capacity: cap(8, 16384, 4, 4096), reserved: {cores: 4, memoryMb: 4096}, running: 1})}))
    expect(r3.picks).toEqual([{id: 'a', cluster: 'c1'}])
  })

  it('memory counts like cores', () => {
    const r = admit([task('a', 'c1', 1, 2048)], loads({c1: load({capacity: cap(8, 4096, 0, 1000), reserved: {cores: 0, memoryMb: 3000}})}))
    expect(r.picks).toEqual([])
    expect(r.waits.get('a')).toBe('waiting for 1 core and 2048 MiB on c1 (free: 8 cores and 1096 MiB)')
    const ok = admit([task('a', 'c1', 1, 1096)], loads({c1: load({capacity: cap(8, 4096, 0, 1000), reserved: {cores: 0, memoryMb: 3000}})}))
    expect(ok.picks).toEqual([{id: 'a', cluster: 'c1'}])
  })

  it('what a step places counts against the tasks after it in the same step', () => {
    const r = admit([task('a', 'c1', 2, 1000), task('b', 'c1', 2, 1000), task('c', 'c1', 1, 1000)], loads({c1: load({capacity: cap(4, 10000)})}))
    expect(r.picks).toEqual([
      {id: 'a', cluster: 'c1'},
      {id: 'b', cluster: 'c1'},
    ])
    expect(r.waits.get('c')).toBe('waiting for 1 core and 1000 MiB on c1 (free: 0 cores and 8000 MiB)')
  })

  it('placing on top of an engine figure larger than the reservation: placed work comes on top of the larger one', () => {
    // used 3 (e.g. a job of someone else), reserved 1: after a 2-core pick, 8 - (3 + 2) = 3 remain.
    const r = admit([task('a', 'c1', 2, 0), task('b', 'c1', 3, 0), task('c', 'c1', 1, 0)], loads({c1: load({capacity: cap(8, 1000, 3, 0), reserved: {cores: 1, memoryMb: 0}})}))
    expect(r.picks).toEqual([
      {id: 'a', cluster: 'c1'},
      {id: 'b', cluster: 'c1'},
    ])
    expect(r.waits.get('c')).toBe('waiting for 1 core and 0 MiB on c1 (free: 0 cores and 1000 MiB)')
  })
})

describe('admit: strict head of line per cluster', () => {
  it('a task waiting for room blocks later tasks on that cluster, even small ones that would fit', () => {
    const r = admit([task('big', 'c1', 3, 1024), task('small', 'c1', 1, 512)], loads({c1: load({capacity: cap(4, 8192, 2, 0)})}))
    expect(r.picks).toEqual([])
    expect(r.waits.get('big')).toBe('waiting for 3 cores and 1024 MiB on c1 (free: 2 cores and 8192 MiB)')
    expect(r.waits.get('small')).toBe('behind a task of higher priority (or older) waiting for c1')
  })

  it('blocks only that cluster: later tasks for other clusters still go', () => {
    const r = admit([task('big', 'c1', 3), task('other', 'c2'), task('small', 'c1')], loads({c1: load({capacity: cap(4, 8192, 2, 0)}), c2: load({capacity: cap(2, 8192)})}))
    expect(r.picks).toEqual([{id: 'other', cluster: 'c2'}])
    expect([...r.waits.keys()]).toEqual(['big', 'small'])
  })

  it('a task bigger than the whole cluster waits without blocking the others', () => {
    const r = admit([task('huge', 'c1', 5, 1024), task('tall', 'c1', 1, 9000), task('small', 'c1', 1, 1024)], loads({c1: load({capacity: cap(4, 8192)})}))
    expect(r.picks).toEqual([{id: 'small', cluster: 'c1'}])
    expect(r.waits.get('huge')).toBe('needs 5 cores and 1024 MiB, more than c1 has in all (4 cores and 8192 MiB)')
    expect(r.waits.get('tall')).toBe('needs 1 core and 9000 MiB, more than c1 has in all (4 cores and 8192 MiB)')
  })

  it('a task that falls back to another cluster and is placed there holds no cluster back', () => {
    // 'flex' does not fit on c1 now but goes to c2; 'small' fits on c1 and must not wait behind a task that is placed.
    const r = admit([task('flex', ['c1', 'c2'], 3), task('small', 'c1', 1)], loads({c1: load({capacity: cap(4, 8192, 2, 0)}), c2: load({capacity: cap(4, 8192)})}))
    expect(r.picks).toEqual([
      {id: 'flex', cluster: 'c2'},
      {id: 'small', cluster: 'c1'},
    ])
    expect([...r.waits]).toEqual([])
  })

  it('a task that waits on every cluster it names holds each of them back', () => {
    const l = loads({c1: load({capacity: cap(4, 8192, 3, 0)}), c2: load({capacity: cap(4, 8192, 2, 0)})})
    const r = admit([task('wide', ['c1', 'c2'], 3), task('s1', 'c1'), task('s2', 'c2')], l)
    expect(r.picks).toEqual([])
    expect(r.waits.get('s1')).toBe('behind a task of higher priority (or older) waiting for c1')
    expect(r.waits.get('s2')).toBe('behind a task of higher priority (or older) waiting for c2')
  })
})

describe('admit: fallback clusters, caps, no figures', () => {
  it('the first healthy cluster with room wins; a down cluster is skipped', () => {
    const l = loads({
      c1: load({down: 'ssh: connect ETIMEDOUT', capacity: cap(64, 65536)}),
      c2: load({capacity: cap(4, 8192, 4, 0)}),
      c3: load({capacity: cap(4, 8192)}),
      c4: load({capacity: cap(4, 8192)}),
    })
    expect(admit([task('a', ['c1', 'c2', 'c3', 'c4'], 2)], l).picks).toEqual([{id: 'a', cluster: 'c3'}])
    expect(admit([task('a', ['c4', 'c3'], 2)], l).picks).toEqual([{id: 'a', cluster: 'c4'}])
  })

  it('a task with room nowhere waits with every cluster\'s reason, in its order', () => {
    const r = admit([task('a', ['c1', 'c2', 'c9'], 2, 1024)], loads({c1: load({down: 'ssh: connect ETIMEDOUT'}), c2: load({capacity: cap(4, 8192, 3, 0)})}))
    expect(r.picks).toEqual([])
    expect(r.waits.get('a')).toBe('cluster c1 is not answering (ssh: connect ETIMEDOUT); waiting for 2 cores and 1024 MiB on c2 (free: 1 core and 8192 MiB); cluster c9 is not known to the service')
  })

  it('a down cluster does not block the tasks after the one that was skipped there', () => {
    const r = admit([task('a', ['c1', 'c2']), task('b', 'c2')], loads({c1: load({down: 'not asked yet'}), c2: load({capacity: cap(4, 8192)})}))
    expect(r.picks).toEqual([
      {id: 'a', cluster: 'c2'},
      {id: 'b', cluster: 'c2'},
    ])
  })

  it('maxRunning caps the active tasks per cluster, counting what the step places', () => {
    const r = admit([task('a', 'c1'), task('b', 'c1'), task('c', 'c1')], loads({c1: load({capacity: cap(64, 65536), running: 1, maxRunning: 2})}))
    expect(r.picks).toEqual([{id: 'a', cluster: 'c1'}])
    expect(r.waits.get('b')).toBe('c1 runs its cap of 2 tasks')
    expect(r.waits.get('c')).toBe('behind a task of higher priority (or older) waiting for c1')
  })

  it('a task at the cap of its first cluster goes to the next', () => {
    const r = admit([task('a', ['c1', 'c2'])], loads({c1: load({running: 3, maxRunning: 3}), c2: load({})}))
    expect(r.picks).toEqual([{id: 'a', cluster: 'c2'}])
  })

  it('a cluster with no capacity figures: only the cap applies (any size fits)', () => {
    const tasks = [task('a', 'c1', 100, 10 ** 6), task('b', 'c1', 100, 10 ** 6), task('c', 'c1', 100, 10 ** 6), task('d', 'c1', 1, 1)]
    const capped = admit(tasks, loads({c1: load({maxRunning: 3})}))
    expect(capped.picks.map((p) => p.id)).toEqual(['a', 'b', 'c'])
    expect(capped.waits.get('d')).toBe('c1 runs its cap of 3 tasks')
    const open = admit(tasks, loads({c1: load({})}))
    expect(open.picks.map((p) => p.id)).toEqual(['a', 'b', 'c', 'd'])
  })

  it('a task that names no cluster waits with a reason', () => {
    const r = admit([{id: 'a', clusters: [], demand: {cores: 1, memoryMb: 0}}], new Map())
    expect(r.waits.get('a')).toBe('no cluster named')
  })

  it('does not modify the loads it is given', () => {
    const l = loads({
      c1: load({capacity: cap(4, 8192, 1, 512), reserved: {cores: 1, memoryMb: 512}, running: 1, maxRunning: 5}),
      c2: load({reserved: {cores: 0, memoryMb: 0}}),
    })
    const before = structuredClone(l)
    const r = admit([task('a', 'c1', 2), task('b', 'c2'), task('c', 'c1', 1)], l)
    expect(r.picks).toHaveLength(3)
    expect(l).toEqual(before)
    // And a second call with the same loads decides the same way.
    expect(admit([task('a', 'c1', 2), task('b', 'c2'), task('c', 'c1', 1)], l)).toEqual(r)
  })
})
