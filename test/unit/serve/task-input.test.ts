import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {JOB_NAME_RE} from '../../../src/jobs/spec.js'
import {UsageError} from '../../../src/remote/errors.js'
import type {FileRef} from '../../../src/serve/store/store.js'
import {SPEC_DEFAULTS} from '../jobs/spec-defaults.js'
import {TASK_ID_RE, attemptJobName, classicToTask, newTaskId, parseTask, taskDemand} from '../../../src/serve/task-input.js'

const PY = 'https://example.com/apps/pi.py'
const ref = (name: string): FileRef => ({name, sha256: createHash('sha256').update(name).digest('hex'), size: name.length})
const uploads = (...names: string[]) => new Map(names.map((n) => [n, ref(n)]))

/** The UsageError message `fn` throws (fails the test when it throws nothing, or something else). */
function usage(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error('expected a UsageError, but nothing was thrown')
}


describe('parseTask: spec tasks', () => {
  it('a valid spec task: defaults filled, one cluster, no uploads', () => {
    expect(parseTask({cluster: 'c1', spec: {app: PY, args: [10]}})).toEqual({
      id: undefined,
      clusters: ['c1'],
      name: 'pi',
      kind: 'spec',
      spec: {...SPEC_DEFAULTS, name: 'pi', app: PY, args: ['10']},
      priority: 0,
      retries: 0,
      demand: undefined,
      files: [],
    })
  })

  it("the spec's priority and retries apply when the task sets none; the stored spec asks the engine for no retries", () => {
    const t = parseTask({id: 'job-1', cluster: 'c1', spec: {app: PY, priority: 7, retries: 3}})
    expect(t).toMatchObject({id: 'job-1', priority: 7, retries: 3})
    expect(t.spec!.retries).toBe(0)
    expect(t.spec!.priority).toBe(7)
    const own = parseTask({cluster: 'c1', spec: {app: PY, priority: 7, retries: 3}, priority: 100, retries: 0})
    expect(own).toMatchObject({priority: 100, retries: 0})
    expect(own.spec!.retries).toBe(0)
  })

  it('a list of clusters is kept in order, without repeats', () => {
    expect(parseTask({cluster: ['c2', 'c1', 'c2'], spec: {app: PY}}).clusters).toEqual(['c2', 'c1'])
  })

  it('resources give the demand; otherwise none is set (taskDemand works it out from the spec)', () => {
    const t = parseTask({cluster: 'c1', spec: {app: PY}, resources: {cores: 2, memory: '3g'}})
    expect(t.demand).toEqual({cores: 2, memoryMb: 3072})
    expect(taskDemand(t, 'spark')).toEqual({cores: 2, memoryMb: 3072})
    const s = parseTask({cluster: 'c1', spec: {app: PY, executor: {instances: 2}}})
    expect(s.demand).toBeUndefined()
    expect(taskDemand(s, 'spark')).toEqual({cores: 2, memoryMb: 2048})
    expect(taskDemand(s, 'nomad')).toEqual({cores: 2, memoryMb: 1280})
  })

  it('uploaded files named by the spec come back sorted by name; URLs need no upload', () => {
    const t = parseTask(
      {cluster: 'c1', spec: {app: 'pi.py', pyFiles: ['lib.zip', 'https://example.com/dep.py'], files: ['data.csv'], jars: []}},
      {uploads: uploads('pi.py', 'data.csv', 'lib.zip')},
    )
    expect(t.files).toEqual([ref('data.csv'), ref('lib.zip'), ref('pi.py')])
    expect(t.spec).toMatchObject({app: 'pi.py', pyFiles: ['lib.zip', 'https://example.com/dep.py'], files: ['data.csv']})
    expect(parseTask({cluster: 'c1', spec: {app: PY, files: ['s3a://bucket/x.csv']}}).files).toEqual([])
  })

  it('a spec naming a file that was not uploaded', () => {
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: 'pi.py'}}))).toBe('spec: app: pi.py was not uploaded (send it as a file part)')
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: 'pi.py', files: ['a.txt', 'b.txt']}}, {uploads: uploads('pi.py', 'a.txt')}))).toBe(
      'spec: files[1]: b.txt was not uploaded (send it as a file part)',
    )
  })

  it('a local path with a folder: files are named by their file name', () => {
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: '/work/pi.py'}}))).toBe('spec: app: /work/pi.py: name an uploaded file by its file name, or give a URL')
    // Every problem in one line: the path, and the upload it did not name.
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: '/work/pi.py'}}, {uploads: uploads('pi.py')}))).toBe(
      'spec: app: /work/pi.py: name an uploaded file by its file name, or give a URL; pi.py: uploaded but not named by the spec',
    )
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY, jars: ['lib/x.jar']}}))).toBe('spec: jars[0]: lib/x.jar: name an uploaded file by its file name, or give a URL')
  })

  it('an uploaded file the spec does not name', () => {
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY}}, {uploads: uploads('extra.txt')}))).toBe('spec: extra.txt: uploaded but not named by the spec')
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: 'pi.py'}}, {uploads: uploads('x.py', 'pi.py')}))).toBe('spec: x.py: uploaded but not named by the spec')
  })

  it("the spec's own errors, with the field's path", () => {
    expect(usage(() => parseTask({cluster: 'c1', spec: {args: []}}))).toBe('spec: app: required')
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: 'https://example.com/x.jar'}}))).toBe('spec: mainClass: required for a .jar app')
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY, retries: 11}}))).toBe('spec: retries: expected a whole number from 0 to 10')
  })
})

describe('parseTask: jobfile tasks and the shape of a task', () => {
  it('a jobfile task: named after the file, priority and retries 0 unless set, no demand unless resources', () => {
    const jobfile = {name: 'batch.nomad.hcl', content: 'job "batch" {}'}
    expect(parseTask({cluster: 'n1', jobfile})).toEqual({id: undefined, clusters: ['n1'], name: 'batch.nomad', kind: 'jobfile', jobfile, priority: 0, retries: 0, demand: undefined, files: []})
    const t = parseTask({cluster: 'k1', jobfile: {name: 'job.yaml', content: 'kind: Job'}, priority: 3, retries: 2, resources: {cores: 0.5, memory: '256m'}})
    expect(t).toMatchObject({name: 'job', priority: 3, retries: 2, demand: {cores: 0.5, memoryMb: 256}})
    expect(taskDemand({...t, demand: undefined}, 'kubernetes')).toEqual({cores: 1, memoryMb: 0})
  })

  it('a jobfile takes no uploads', () => {
    expect(usage(() => parseTask({cluster: 'n1', jobfile: {name: 'a.hcl', content: ''}}, {uploads: uploads('x.txt', 'y.txt')}))).toBe('files: a jobfile task takes no uploaded files (x.txt, y.txt)')
  })

  it('a jobfile needs a jobfile name, and at most 1 MiB of content', () => {
    expect(usage(() => parseTask({cluster: 'n1', jobfile: {name: 'a.txt', content: ''}}))).toBe('jobfile.name: expected a file name ending in .hcl, .nomad, .json, .yaml or .yml')
    expect(usage(() => parseTask({cluster: 'n1', jobfile: {name: 'a.hcl', content: 'x'.repeat(1024 * 1024 + 1)}}))).toBe('jobfile.content: longer than 1048576 bytes')
    expect(parseTask({cluster: 'n1', jobfile: {name: 'a.hcl', content: 'x'.repeat(1024 * 1024)}}).kind).toBe('jobfile')
  })

  it('spec and jobfile: exactly one', () => {
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY}, jobfile: {name: 'a.hcl', content: ''}}))).toBe('body: give either spec (a portable job spec) or jobfile ({name, content}), not both')
    expect(usage(() => parseTask({cluster: 'c1'}))).toBe('body: give either spec (a portable job spec) or jobfile ({name, content}), not neither')
  })

  it('an unknown field names every known one', () => {
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY}, prio: 3}))).toBe('prio: unknown field (known: id, cluster, spec, jobfile, priority, retries, resources, notify)')
  })

  it('not an object', () => {
    expect(usage(() => parseTask([1]))).toBe('body: expected a task (a JSON object)')
    expect(usage(() => parseTask(null, {where: 'tasks[2]'}))).toBe('tasks[2]: expected a task (a JSON object)')
  })

  it('cluster names: checked like `-n`, and required', () => {
    const msg = 'cluster: must be a cluster name: 2-32 lowercase letters, digits and single hyphens, starting with a letter'
    expect(usage(() => parseTask({cluster: 'Bad_Name', spec: {app: PY}}))).toBe(msg)
    expect(usage(() => parseTask({cluster: 'a--b', spec: {app: PY}}))).toBe('cluster: must be a cluster name: single hyphens only')
    expect(usage(() => parseTask({cluster: ['c1', 'X'], spec: {app: PY}}))).toBe('cluster.1: must be a cluster name: 2-32 lowercase letters, digits and single hyphens, starting with a letter')
    expect(usage(() => parseTask({spec: {app: PY}}))).toBe('cluster: required')
    expect(usage(() => parseTask({cluster: [], spec: {app: PY}}))).toBe('cluster: must name at least one cluster')
    expect(usage(() => parseTask({cluster: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'], spec: {app: PY}}))).toBe('cluster: at most 5 clusters')
    expect(usage(() => parseTask({cluster: 7, spec: {app: PY}}))).toBe('cluster: expected a cluster name or a list of them (the first healthy one is used)')
  })

  it('priority, retries and id are checked', () => {
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY}, priority: 1001}))).toBe('priority: expected a whole number from 0 to 1000')
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY}, retries: 1.5}))).toBe('retries: expected a whole number from 0 to 10')
    expect(usage(() => parseTask({id: '-x', cluster: 'c1', spec: {app: PY}}))).toBe('id: must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit')
  })

  it('`where` prefixes every message of a batch', () => {
    const at = {where: 'tasks[3]'}
    expect(usage(() => parseTask({cluster: 'c1', spec: {}}, at))).toBe('tasks[3].spec: app: required')
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: 'pi.py'}}, at))).toBe('tasks[3].spec: app: pi.py was not uploaded (send it as a file part)')
    expect(usage(() => parseTask({cluster: 'c1', spec: {app: PY}, prio: 1}, at))).toBe('tasks[3].prio: unknown field (known: id, cluster, spec, jobfile, priority, retries, resources, notify)')
    expect(usage(() => parseTask({cluster: 'C', spec: {app: PY}}, at))).toBe('tasks[3].cluster: must be a cluster name: 2-32 lowercase letters, digits and single hyphens, starting with a letter')
    expect(usage(() => parseTask({cluster: 'c1'}, at))).toBe('tasks[3]: give either spec (a portable job spec) or jobfile ({name, content}), not neither')
    expect(usage(() => parseTask({cluster: 'n1', jobfile: {name: 'a.hcl', content: ''}}, {...at, uploads: uploads('x')}))).toBe('tasks[3].files: a jobfile task takes no uploaded files (x)')
    expect(usage(() => parseTask({jobId: 'j1', jobType: 'SparkApp', sparkAppPath: PY}, at))).toBe('tasks[3].cluster: required (or start cms serve with --default-cluster)')
  })
})

describe('parseTask: the classic executor form', () => {
  it('maps to a spec: app, argument list, dependencies by extension, main class; jobId is the task id', () => {
    const t = parseTask({
      jobId: 'etl-2026-01-01',
      jobType: 'SparkApp',
      sparkAppPath: 'https://example.com/etl.jar',
      mainClass: 'com.example.Etl',
      parameters: ['--day', 20260101],
      dependencies: ['https://example.com/a.jar', 'https://example.com/B.JAR', 'https://example.com/lookup.csv', 'https://example.com/conf.properties'],
      cluster: 'c1',
      priority: 9,
      retries: 1,
    })
    expect(t).toEqual({
      id: 'etl-2026-01-01',
      clusters: ['c1'],
      name: 'etl',
      kind: 'spec',
      spec: {
        ...SPEC_DEFAULTS,
        name: 'etl',
        app: 'https://example.com/etl.jar',
        mainClass: 'com.example.Etl',
        args: ['--day', '20260101'],
        jars: ['https://example.com/a.jar', 'https://example.com/B.JAR'],
        files: ['https://example.com/lookup.csv', 'https://example.com/conf.properties'],
      },
      priority: 9,
      retries: 1,
      demand: undefined,
      files: [],
    })
  })

  it('python dependencies (.py, .zip, .egg) become pyFiles; parameters as a mapping become options', () => {
    const t = parseTask(
      {jobId: 'p1', jobType: 'SparkApp', sparkAppPath: 'main.py', parameters: {input: 's3a://b/in', '-v': true, n: 3}, dependencies: ['util.py', 'libs.zip', 'dist.egg', 'data.json']},
      {uploads: uploads('main.py', 'util.py', 'libs.zip', 'dist.egg', 'data.json'), defaultCluster: 'dflt'},
    )
    expect(t.id).toBe('p1')
    expect(t.clusters).toEqual(['dflt'])
    expect(t.spec).toMatchObject({app: 'main.py', args: ['--input', 's3a://b/in', '-v', 'true', '--n', '3'], pyFiles: ['util.py', 'libs.zip', 'dist.egg'], files: ['data.json'], jars: []})
    expect(t.spec!.mainClass).toBeUndefined()
    expect(t.files.map((f) => f.name)).toEqual(['data.json', 'dist.egg', 'libs.zip', 'main.py', 'util.py'])
  })

  it('a dependency URL with a query (a signed URL) is sorted by the extension of its path', () => {
    const t = classicToTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: 'https://example.com/etl.jar', mainClass: 'a.B', dependencies: ['https://s3.example.com/lib.jar?X-Amz-Signature=ab12', 'https://example.com/dep.py#v2', 'https://example.com/data.jar.csv?x=.jar']}, 'c1')
    expect(t.spec).toEqual({
      app: 'https://example.com/etl.jar',
      args: [],
      mainClass: 'a.B',
      jars: ['https://s3.example.com/lib.jar?X-Amz-Signature=ab12'],
      pyFiles: ['https://example.com/dep.py#v2'],
      files: ['https://example.com/data.jar.csv?x=.jar'],
    })
  })

  it('classicToTask: the task it makes (no priority or retries keys unless given)', () => {
    expect(classicToTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: 'a.py'}, 'd1')).toEqual({id: 'j', cluster: 'd1', spec: {app: 'a.py', args: []}})
    expect(classicToTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: 'a.py', cluster: ['c1', 'c2'], retries: 0}, 'd1')).toEqual({id: 'j', cluster: ['c1', 'c2'], spec: {app: 'a.py', args: []}, retries: 0})
  })

  it('its own cluster wins over the default; a fallback list is allowed', () => {
    expect(parseTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: PY, cluster: ['c2', 'c3']}, {defaultCluster: 'dflt'}).clusters).toEqual(['c2', 'c3'])
  })

  it('no cluster and no default cluster: refused, naming the flag', () => {
    expect(usage(() => parseTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: PY}))).toBe('cluster: required (or start cms serve with --default-cluster)')
  })

  it('only SparkApp', () => {
    expect(usage(() => parseTask({jobId: 'j', jobType: 'FlinkApp', sparkAppPath: PY, cluster: 'c1'}))).toBe('jobType: only SparkApp is supported')
  })

  it('a jobId without spec or jobfile is the classic form (its errors name the classic fields)', () => {
    expect(usage(() => parseTask({jobId: 'j', cluster: 'c1'}))).toBe('jobType: only SparkApp is supported; sparkAppPath: expected the app\'s path or URL')
    expect(usage(() => parseTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: PY, cluster: 'c1', extra: 1}))).toBe(
      'extra: unknown field (known: jobId, jobType, sparkAppPath, mainClass, parameters, dependencies, cluster, priority, retries)',
    )
  })

  it("the spec's checks still apply to what the classic form maps to", () => {
    expect(usage(() => parseTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: 'https://example.com/x.jar', cluster: 'c1'}))).toBe('spec: mainClass: required for a .jar app')
    expect(usage(() => parseTask({jobId: 'j', jobType: 'SparkApp', sparkAppPath: 'app.py', cluster: 'c1'}))).toBe('spec: app: app.py was not uploaded (send it as a file part)')
  })
})

describe('attemptJobName', () => {
  const tag = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 10)

  it('the spec name, then -q<hash of the task id>-<attempt>', () => {
    expect(attemptJobName('pi', 'task-1', 1)).toBe(`pi-q${tag('task-1')}-1`)
    expect(attemptJobName('pi', 'task-1', 1)).toBe(attemptJobName('pi', 'task-1', 1))
  })

  it('distinct per attempt and per task', () => {
    const names = new Set([attemptJobName('pi', 't1', 1), attemptJobName('pi', 't1', 2), attemptJobName('pi', 't2', 1), attemptJobName('pi', 't2', 2)])
    expect(names.size).toBe(4)
  })

  it('at most 63 characters, a valid job name, the spec name cut (without a trailing - or .)', () => {
    const long = `${'a'.repeat(47)}.-${'b'.repeat(14)}`
    expect(long).toMatch(JOB_NAME_RE)
    for (const specName of ['x', 'pi', 'A'.repeat(63), long, `${'c'.repeat(47)}--d`, `${'e'.repeat(47)}.x`]) {
      for (const n of [1, 9, 10, 11, 999]) {
        const name = attemptJobName(specName, 'some-task-id', n)
        expect(name.length).toBeLessThanOrEqual(63)
        expect(name).toMatch(JOB_NAME_RE)
        expect(name.endsWith(`-q${tag('some-task-id')}-${n}`)).toBe(true)
      }
    }
    expect(attemptJobName('A'.repeat(63), 't', 1)).toBe(`${'A'.repeat(49)}-q${tag('t')}-1`)
    expect(attemptJobName('A'.repeat(63), 't', 1)).toHaveLength(63)
    expect(attemptJobName(long, 't', 1)).toBe(`${'a'.repeat(47)}-q${tag('t')}-1`)
    expect(attemptJobName(`${'e'.repeat(47)}.x`, 't', 12)).toBe(`${'e'.repeat(47)}-q${tag('t')}-12`)
  })
})

describe('newTaskId', () => {
  it('matches TASK_ID_RE: t<time in base 36>-<10 hex digits>', () => {
    const id = newTaskId(1_700_000_000_000)
    expect(id).toMatch(TASK_ID_RE)
    expect(id).toMatch(/^tloyw3v28-[0-9a-f]{10}$/)
    expect(newTaskId()).toMatch(TASK_ID_RE)
  })

  it('is ordered by time as a string, and random within one millisecond', () => {
    const ids = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_035_999, 1_800_000_000_000, 2_500_000_000_000].map((t) => newTaskId(t))
    expect([...ids].sort()).toEqual(ids)
    expect(newTaskId(1_700_000_000_000)).not.toBe(newTaskId(1_700_000_000_000))
  })
})
