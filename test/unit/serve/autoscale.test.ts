import {describe, expect, it} from 'vitest'
import {decide, freshMemory, helpable, hostsFor, type ScaleHost, type ScaleMemory, type ScaleView} from '../../../src/serve/autoscale/decide.js'
import {describePolicy, parseAutoscale, parseAutoscaleFlags, type AutoscalePolicy} from '../../../src/serve/autoscale/policy.js'
import {scaleHosts} from '../../../src/serve/autoscale/scale-hosts.js'
import {admit} from '../../../src/serve/queue/admission.js'
import type {ClusterInfo} from '../../../src/output/results.js'

describe('--autoscale', () => {
  it('parses NAME:min=N,max=M with idle and wait defaulting to 15m and 1m', () => {
    expect(parseAutoscale('etl:min=2,max=8')).toEqual({cluster: 'etl', min: 2, max: 8, idleMs: 900_000, waitMs: 60_000})
    expect(parseAutoscale('etl:max=3,min=1,idle=20s,wait=5s')).toEqual({cluster: 'etl', min: 1, max: 3, idleMs: 20_000, waitMs: 5000})
    expect(describePolicy(parseAutoscale('etl:min=2,max=8,idle=1h30m'))).toBe('min=2,max=8,idle=1h30m,wait=1m')
  })

  it.each([
    ['etl', 'expected NAME:min=N,max=M'],
    ['Etl:min=1,max=2', 'invalid cluster name'],
    ['etl:min=1', 'max= is required'],
    ['etl:min=0,max=2', 'min=0: expected a host count from 1 to 100'],
    ['etl:min=1,max=101', 'max=101: expected a host count'],
    ['etl:min=3,max=2', 'max=2 is below min=3'],
    ['etl:min=1,max=2,idle=soon', 'idle'],
    ['etl:min=1,max=2,cooldown=1m', 'unknown key cooldown'],
    ['etl:min=1,min=2,max=3', 'min is given twice'],
    ['etl:min=1,max', '"max" is not KEY=VALUE'],
  ])('refuses %s with one line naming the problem', (value, message) => {
    expect(() => parseAutoscale(value)).toThrow(message)
    try {
      parseAutoscale(value)
    } catch (error) {
      expect((error as Error).message).toContain(`--autoscale ${value}`)
      expect((error as Error).message).not.toContain('\n')
    }
  })

  it('refuses a cluster given twice', () => {
    expect(() => parseAutoscaleFlags(['etl:min=1,max=2', 'etl:min=2,max=3'])).toThrow('--autoscale: cluster etl is given twice')
  })
})

const policy: AutoscalePolicy = {cluster: 'etl', min: 1, max: 3, idleMs: 20_000, waitMs: 5000}
const head: ScaleHost = {id: 'cms-etl-1', role: 'head', busy: true, cores: 1, memoryMb: 1024}
const worker = (n: number, busy: boolean | undefined): ScaleHost => ({id: `cms-etl-${n}`, role: 'worker', busy, cores: 1, memoryMb: 1024})
const view = (v: Partial<ScaleView>): ScaleView => ({now: 0, hosts: [head], starting: 0, running: 0, ...v})

/** Feeds looks one after the other, carrying the memory, and returns the last decision. */
function run(looks: Array<Partial<ScaleView>>, p = policy, start: ScaleMemory = freshMemory()) {
  let memory = start
  let last
  for (const look of looks) {
    const r = decide(p, memory, view(look))
    memory = r.memory
    last = r.decision
  }
  return {decision: last!, memory}
}

describe('decide', () => {
  const one = {cores: 1, memoryMb: 1024}
  const short = [one, one, one, one, one]

  it('grows only once tasks have waited for room as long as wait, by as many hosts as they need, up to max', () => {
    expect(run([{now: 0, waiting: short}, {now: 4000, waiting: short}]).decision).toMatchObject({kind: 'hold', reason: expect.stringContaining('waited 4s')})
    expect(run([{now: 0, waiting: short}, {now: 5000, waiting: short}]).decision).toEqual({kind: 'grow', count: 2, reason: '5 task(s) waited 5s for 5 core(s) and 5120 MiB'})
    // One task short by one host's worth: one host.
    expect(run([{now: 0, waiting: [one]}, {now: 6000, waiting: [one]}]).decision).toMatchObject({kind: 'grow', count: 1})
  })

  it('a task bigger than the cluster could be at max neither grows it nor keeps its idle hosts', () => {
    const huge = {cores: 100_000, memoryMb: 1024}
    expect(run([{now: 0, waiting: [huge]}, {now: 60_000, waiting: [huge]}]).decision).toEqual({kind: 'hold', reason: '1 task(s) need more than the cluster could have at max=3'})
    const hosts = [head, worker(2, false)]
    expect(run([{now: 0, hosts, waiting: [huge]}, {now: 20_000, hosts, waiting: [huge]}]).decision).toMatchObject({kind: 'shrink', hosts: ['cms-etl-2']})
    // Three hosts of 1 core can hold a 3-core task: that one grows it.
    expect(run([{now: 0, waiting: [huge, {cores: 3, memoryMb: 1024}]}, {now: 5000, waiting: [huge, {cores: 3, memoryMb: 1024}]}]).decision).toMatchObject({kind: 'grow', count: 2, reason: '1 task(s) waited 5s for 3 core(s) and 1024 MiB'})
    expect(helpable([huge, one], [{id: 'h', role: 'head'}], 3)).toEqual([huge, one])
  })

  it('a break in the shortage starts the wait again', () => {
    expect(run([{now: 0, waiting: short}, {now: 3000}, {now: 4000, waiting: short}, {now: 8000, waiting: short}]).decision.kind).toBe('hold')
  })

  it('holds at max, while down, and for wait (doubled per failure) after an action', () => {
    const full = [head, worker(2, true), worker(3, true)]
    expect(run([{now: 0, waiting: short, hosts: full}, {now: 9000, waiting: short, hosts: full}]).decision).toMatchObject({kind: 'hold', reason: expect.stringContaining('at max=3')})
    expect(run([{now: 0, waiting: short, down: 'ssh: timeout'}, {now: 9000, waiting: short, down: 'ssh: timeout'}]).decision).toMatchObject({kind: 'hold', reason: 'not answering (ssh: timeout)'})
    const acted = {...freshMemory(), lastActionAt: 0}
    expect(run([{now: 0, waiting: short}, {now: 4000, waiting: short}], policy, acted).decision).toMatchObject({kind: 'hold', reason: expect.stringContaining('pausing')})
    expect(run([{now: 0, waiting: short}, {now: 9000, waiting: short}], policy, {...acted, failures: 1}).decision.kind).toBe('hold')
    expect(run([{now: 0, waiting: short}, {now: 10_000, waiting: short}], policy, {...acted, failures: 1}).decision.kind).toBe('grow')
  })

  it('grows a cluster below min at once', () => {
    expect(run([{now: 0}], {...policy, min: 2}).decision).toEqual({kind: 'grow', count: 1, reason: '1 host(s), below min=2'})
  })

  it('removes worker hosts idle for idle, newest first, never the head, never below min', () => {
    const hosts = [head, worker(2, false), worker(3, false)]
    expect(run([{now: 0, hosts}, {now: 19_000, hosts}]).decision.kind).toBe('hold')
    expect(run([{now: 0, hosts}, {now: 20_000, hosts}]).decision).toEqual({kind: 'shrink', hosts: ['cms-etl-3', 'cms-etl-2'], reason: 'idle for 20s or more'})
    expect(run([{now: 0, hosts}, {now: 20_000, hosts}], {...policy, min: 2}).decision).toMatchObject({kind: 'shrink', hosts: ['cms-etl-3']})
    // cms-etl-10 is newer than cms-etl-9.
    const many = [head, worker(9, false), worker(10, false)]
    expect(run([{now: 0, hosts: many}, {now: 20_000, hosts: many}], {...policy, min: 2}).decision).toMatchObject({kind: 'shrink', hosts: ['cms-etl-10']})
  })

  it('a busy look, waiting tasks or a task being handed over restart a host idle time', () => {
    const idle = [head, worker(2, false)]
    const busy = [head, worker(2, true)]
    expect(run([{now: 0, hosts: idle}, {now: 10_000, hosts: busy}, {now: 11_000, hosts: idle}, {now: 25_000, hosts: idle}]).decision.kind).toBe('hold')
    expect(run([{now: 0, hosts: idle}, {now: 10_000, hosts: idle, starting: 1}, {now: 25_000, hosts: idle}]).decision.kind).toBe('hold')
    expect(run([{now: 0, hosts: idle}, {now: 10_000, hosts: idle, waiting: [{cores: 2, memoryMb: 1}]}, {now: 25_000, hosts: idle}]).decision.kind).toBe('hold')
  })

  it('where the engine reports no per-host use, a host is idle only while the service runs nothing there', () => {
    const hosts = [head, worker(2, undefined)]
    expect(run([{now: 0, hosts, running: 1}, {now: 30_000, hosts, running: 1}]).decision.kind).toBe('hold')
    expect(run([{now: 0, hosts}, {now: 20_000, hosts}]).decision).toMatchObject({kind: 'shrink', hosts: ['cms-etl-2']})
  })

  it('hostsFor: what the waiting tasks need beyond the free room, in hosts like the present ones', () => {
    const hosts = [{...head, cores: 4, memoryMb: 8192}]
    expect(hostsFor([{cores: 4, memoryMb: 1024}, {cores: 4, memoryMb: 1024}, {cores: 2, memoryMb: 1024}], hosts, {cores: 2, memoryMb: 4096})).toBe(2)
    expect(hostsFor([{cores: 1, memoryMb: 20_000}], hosts, undefined)).toBe(3)
    expect(hostsFor([one], [{id: 'h', role: 'head'}], undefined)).toBe(1)
  })
})

describe('admission shortage', () => {
  const load = {capacity: {cores: 2, memoryMb: 4096, usedCores: 0, usedMemoryMb: 0}, reserved: {cores: 0, memoryMb: 0}, running: 0}
  it('counts what the tasks not placed need, on the first cluster whose room they wait for', () => {
    const one = {cores: 1, memoryMb: 1024}
    const {picks, short} = admit(
      [
        {id: 'a', clusters: ['etl'], demand: one},
        {id: 'b', clusters: ['etl'], demand: one},
        {id: 'c', clusters: ['etl', 'aws'], demand: one},
        {id: 'd', clusters: ['etl'], demand: {cores: 8, memoryMb: 1024}},
        {id: 'e', clusters: ['gone'], demand: one},
      ],
      new Map([
        ['etl', load],
        ['aws', {...load, down: 'no answer'}],
      ]),
    )
    expect(picks.map((p) => p.id)).toEqual(['a', 'b'])
    expect([...short]).toEqual([['etl', [one, {cores: 8, memoryMb: 1024}]]])
  })
})

describe('scaleHosts', () => {
  it('takes per-host use from Spark workers, sizes from Nomad and Kubernetes nodes', () => {
    const w = (state: string, coresUsed: number) => ({id: 'w', state, cores: 2, coresUsed, memoryMb: 2048, memoryUsedMb: 0})
    const info = {
      master: {},
      hosts: [
        {id: 'h1', role: 'head', address: '', state: 'running', worker: w('ALIVE', 1)},
        {id: 'h2', role: 'worker', address: '', state: 'running', worker: w('ALIVE', 0)},
        {id: 'h3', role: 'worker', address: '', state: 'running', worker: w('DEAD', 0)},
        {id: 'h4', role: 'worker', address: '', state: 'running'},
      ],
    } as unknown as ClusterInfo
    expect(scaleHosts(info)).toEqual([
      {id: 'h1', role: 'head', busy: true, cores: 2, memoryMb: 2048},
      {id: 'h2', role: 'worker', busy: false, cores: 2, memoryMb: 2048},
      {id: 'h3', role: 'worker', busy: false},
      {id: 'h4', role: 'worker', busy: false},
    ])
    const nomad = {hosts: [{id: 'n1', role: 'worker', address: '', state: 'running', node: {cores: 4, memoryMb: 8000}}]} as unknown as ClusterInfo
    expect(scaleHosts(nomad)).toEqual([{id: 'n1', role: 'worker', cores: 4, memoryMb: 8000}])
  })

  it('takes per-host use from YARN NodeManagers: busy while one runs a container or has resources in use', () => {
    const nm = (state: string, containers: number, memoryUsedMb = 0) => ({id: 'x:8041', state, memoryMb: 3072, memoryUsedMb, vcores: 2, vcoresUsed: 0, containers})
    const info = {
      yarn: {},
      hosts: [
        {id: 'h1', role: 'head', address: '', state: 'running', nodemanager: nm('RUNNING', 1)},
        {id: 'h2', role: 'worker', address: '', state: 'running', nodemanager: nm('RUNNING', 0)},
        {id: 'h3', role: 'worker', address: '', state: 'running', nodemanager: nm('RUNNING', 0, 512)},
        {id: 'h4', role: 'worker', address: '', state: 'running', nodemanager: nm('LOST', 0)},
      ],
    } as unknown as ClusterInfo
    expect(scaleHosts(info)).toEqual([
      {id: 'h1', role: 'head', busy: true, cores: 2, memoryMb: 3072},
      {id: 'h2', role: 'worker', busy: false, cores: 2, memoryMb: 3072},
      {id: 'h3', role: 'worker', busy: true, cores: 2, memoryMb: 3072},
      {id: 'h4', role: 'worker', busy: false},
    ])
  })
})
