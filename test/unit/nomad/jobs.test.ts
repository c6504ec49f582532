import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {NomadAllocation, NomadJob, NomadJobSummary} from '../../../src/engines/nomad/api.js'
import {loadNomadJobFiles, nomadJsonJob, variablesText} from '../../../src/engines/nomad/job-files.js'
import {nextLaunch, nomadJobState, nomadJobView, placementFailures} from '../../../src/engines/nomad/job-state.js'
import {memoryMb, nomadJobForSpec, nomadPriority, taskResources} from '../../../src/jobs/nomad-translate.js'
import {parseJobSpec} from '../../../src/jobs/spec.js'
import {UsageError} from '../../../src/remote/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'cms-nomad-unit-'))
const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

describe('Nomad jobfiles', () => {
  const hcl = file('web.nomad', 'job "web" {}\n')
  const jsonJob = file('batch.json', JSON.stringify({Job: {ID: 'batch', TaskGroups: []}}))
  const spec = file('pi.yaml', 'app: pi.py\nargs: [4]\n')
  file('pi.py', 'print(1)\n')

  it('tells HCL, Nomad JSON and portable specs apart', () => {
    const loaded = loadNomadJobFiles([hcl, jsonJob, spec], {})
    expect(loaded.map((j) => j.kind)).toEqual(['hcl', 'json', 'spec'])
    expect(loaded.map((j) => j.name)).toEqual(['web', 'batch', 'pi'])
  })

  it('recognises a Nomad job in JSON with or without the Job wrapper, and nothing else', () => {
    expect(nomadJsonJob({ID: 'a', TaskGroups: []})).toMatchObject({ID: 'a'})
    expect(nomadJsonJob({Job: {Name: 'b', TaskGroups: []}})).toMatchObject({Name: 'b'})
    expect(nomadJsonJob({app: 'x.jar'})).toBeUndefined()
    expect(nomadJsonJob([1])).toBeUndefined()
  })

  it('turns --var-file contents and --var assignments into one variables text, --var last', () => {
    const varFile = file('prod.vars.hcl', 'count = 5\n')
    expect(variablesText(['count=3', 'name=a "quoted" ${value}'], [varFile])).toBe('count = 5\n\ncount = "3"\nname = "a \\"quoted\\" $${value}"\n')
    expect(() => variablesText(['no-equals'])).toThrow(/--var "no-equals": expected NAME=VALUE/)
    expect(() => variablesText(['1x=2'])).toThrow(UsageError)
  })

  it('refuses flags that do not apply, and names every bad file in one error', () => {
    expect(() => loadNomadJobFiles([hcl], {conf: ['spark.x=1']})).toThrow(/--class, --conf and -- ARGS are for job specs/)
    expect(() => loadNomadJobFiles([spec], {vars: ['a=1']})).toThrow(/--var and --var-file are for HCL jobfiles/)
    const error = (() => {
      try {
        loadNomadJobFiles([join(dir, 'missing.hcl'), file('broken.json', '{')], {})
      } catch (e) {
        return e as Error
      }
    })()
    expect(error).toBeInstanceOf(UsageError)
    expect(error!.message.split('\n')).toHaveLength(2)
    expect(error!.message).toContain('missing.hcl: jobfile not found')
    expect(error!.message).toContain('broken.json: invalid JSON')
  })
})

describe('portable spec to a Nomad job', () => {
  const base = parseJobSpec({app: '/x/etl.jar', mainClass: 'com.example.Main', args: ['2026-11-01'], env: {TZ: 'UTC'}, priority: 700, retries: 2}, 'etl.yaml')
  const input = {jobId: 'etl-1', sparkHome: '/h/spark', appPath: '/c/files/ab/etl.jar', remoteJars: [], remoteFiles: [], remotePyFiles: []}

  it('maps priority onto 1-100 (0 is Nomad default 50) and sizes memory', () => {
    expect(nomadPriority(0)).toBe(50)
    expect(nomadPriority(700)).toBe(70)
    expect(nomadPriority(1)).toBe(1)
    expect(nomadPriority(1000)).toBe(100)
    expect(memoryMb('512m')).toBe(512)
    expect(memoryMb('2g')).toBe(2048)
    expect(memoryMb('1536')).toBe(1536)
    expect(memoryMb('100k')).toBe(1)
  })

  it('sizes the task for local mode: every executor core, driver plus executor memory plus JVM overhead', () => {
    expect(taskResources(base)).toEqual({cores: 1, memoryMb: 1024 + 256})
    const big = parseJobSpec({app: 'a.py', driver: {memory: '1g'}, executor: {cores: 2, memory: '512m', instances: 3}}, 'a.yaml')
    expect(taskResources(big)).toEqual({cores: 6, memoryMb: 1024 + 3 * 512 + 256})
  })

  it('names the cluster\'s HDFS as the default file system (nomad --hdfs), unless the spec sets one', () => {
    const args = (spec: typeof base) => JSON.stringify(nomadJobForSpec(spec, {...input, defaultFs: 'hdfs://10.0.0.2:8020'}))
    expect(args(base)).toContain('spark.hadoop.fs.defaultFS=hdfs://10.0.0.2:8020')
    expect(JSON.stringify(nomadJobForSpec(base, input))).not.toContain('fs.defaultFS')
    const own = parseJobSpec({app: 'a.py', conf: {'spark.hadoop.fs.defaultFS': 'file:///'}}, 'a.yaml')
    expect(args(own)).toContain('spark.hadoop.fs.defaultFS=file:///')
    expect(args(own)).not.toContain('hdfs://10.0.0.2')
  })

  it('is one raw_exec task running spark-submit in local mode with the spec mapped onto Nomad fields', () => {
    const job = nomadJobForSpec(base, input) as {
      ID: string
      Type: string
      Priority: number
      Meta: Record<string, string>
      TaskGroups: Array<{RestartPolicy: {Attempts: number; Mode: string}; ReschedulePolicy: {Attempts: number}; Tasks: Array<{Driver: string; Config: {command: string; args: string[]}; Env: Record<string, string>; Resources: {Cores: number; MemoryMB: number}}>}>
    }
    expect(job).toMatchObject({ID: 'etl-1', Type: 'batch', Priority: 70, Meta: {'cms.kind': 'jvm', 'cms.retries': '2', 'cms.spec': 'etl'}})
    const group = job.TaskGroups[0]!
    expect(group.RestartPolicy).toMatchObject({Attempts: 2, Mode: 'fail'})
    expect(group.ReschedulePolicy.Attempts).toBe(0)
    const task = group.Tasks[0]!
    expect(task.Driver).toBe('raw_exec')
    expect(task.Config.command).toBe('/h/spark/bin/spark-submit')
    expect(task.Config.args.slice(0, 2)).toEqual(['--master', 'local[1]'])
    expect(task.Config.args).toContain('--class')
    expect(task.Config.args.slice(-2)).toEqual(['/c/files/ab/etl.jar', '2026-11-01'])
    expect(task.Config.args).toContain('spark.driver.memory=1024m')
    expect(task.Env).toEqual({TZ: 'UTC', SPARK_HOME: '/h/spark'})
    expect(task.Resources).toEqual({Cores: 1, MemoryMB: 1280})
  })
})

const job = (over: Partial<NomadJob> = {}): NomadJob => ({ID: 'j', Name: 'j', Type: 'batch', Priority: 50, Status: 'dead', Version: 0, SubmitTime: 1.7e18, TaskGroups: [{Name: 'g', Count: 3}], ...over})
const summary = (g: Partial<NomadJobSummary['Summary'][string]>): NomadJobSummary => ({JobID: 'j', Summary: {g: {Queued: 0, Complete: 0, Failed: 0, Running: 0, Starting: 0, Lost: 0, ...g}}})
const alloc = (over: Partial<NomadAllocation>): NomadAllocation => ({ID: 'a1', NodeID: 'n1', TaskGroup: 'g', ClientStatus: 'complete', DesiredStatus: 'run', CreateTime: 1.7e18, CreateIndex: 1, JobVersion: 0, ...over})

describe("cms job states from Nomad's", () => {
  it('a dead batch job succeeded only if every expected allocation completed and none failed or was lost', () => {
    expect(nomadJobState({job: job(), summary: summary({Complete: 3}), allocations: []})).toBe('SUCCEEDED')
    expect(nomadJobState({job: job(), summary: summary({Complete: 2, Failed: 1}), allocations: []})).toBe('FAILED')
    expect(nomadJobState({job: job(), summary: summary({Complete: 3, Lost: 1}), allocations: []})).toBe('FAILED')
    expect(nomadJobState({job: job(), summary: summary({Complete: 0}), allocations: []})).toBe('FAILED')
  })

  it('stopped is KILLED, placed and alive is RUNNING, nothing placed is SUBMITTED, schedulers are RUNNING', () => {
    expect(nomadJobState({job: job({Stop: true}), summary: summary({Complete: 3}), allocations: []})).toBe('KILLED')
    expect(nomadJobState({job: job({Status: 'running'}), summary: summary({Running: 1}), allocations: []})).toBe('RUNNING')
    expect(nomadJobState({job: job({Status: 'pending'}), summary: summary({Queued: 3}), allocations: []})).toBe('SUBMITTED')
    expect(nomadJobState({job: job({Status: 'running', Periodic: {Enabled: true, Spec: '*/5 * * * *'}}), allocations: []})).toBe('RUNNING')
  })

  it('reports why a job cannot be placed, from the latest evaluation', () => {
    const text = placementFailures([
      {ID: 'e1', Status: 'complete', CreateIndex: 5, FailedTGAllocs: {g: {NodesEvaluated: 3, DimensionExhausted: {memory: 3}}}},
      {ID: 'e0', Status: 'complete', CreateIndex: 4},
    ])
    expect(text).toBe('group g: no node can run it (3 evaluated; memory exhausted on 3 nodes)')
    expect(placementFailures([{ID: 'e', Status: 'complete', CreateIndex: 1, FailedTGAllocs: null}])).toBe('')
  })

  it('computes the next periodic launch from the cron spec and time zone', () => {
    const periodic = job({Status: 'running', Periodic: {Enabled: true, Spec: '30 4 * * *', TimeZone: 'UTC'}})
    expect(nextLaunch(periodic, new Date('2026-11-29T05:00:00Z'))).toBe('2026-11-30T04:30:00.000Z')
    expect(nextLaunch(job({Periodic: {Enabled: false, Spec: '30 4 * * *'}}))).toBeUndefined()
  })

  it('views allocations as attempts: stopped ones KILLED, failed ones with their exit code', () => {
    const view = nomadJobView('c', {
      job: job({Status: 'running', Type: 'service', Version: 1}),
      summary: summary({Running: 1, Complete: 1}),
      allocations: [
        alloc({ID: 'old', ClientStatus: 'complete', DesiredStatus: 'stop', CreateIndex: 1, JobVersion: 0}),
        alloc({ID: 'new', ClientStatus: 'running', CreateIndex: 2, JobVersion: 1, DeploymentStatus: {Healthy: true}}),
        alloc({ID: 'bad', ClientStatus: 'failed', CreateIndex: 3, JobVersion: 1, TaskStates: {t: {State: 'dead', Failed: true, Events: [{Type: 'Terminated', ExitCode: 3}]}}}),
      ],
    })
    expect(view.attempts.map((a) => [a.allocationId, a.state, a.exitCode])).toEqual([
      ['old', 'KILLED', undefined],
      ['new', 'RUNNING', undefined],
      ['bad', 'FAILED', 3],
    ])
    expect(view.kind).toBe('nomad')
    expect(view.healthy).toBe(false)
  })
})
