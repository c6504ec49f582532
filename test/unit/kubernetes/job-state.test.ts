import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {refusalMessage} from '../../../src/engines/kubernetes/apply.js'
import {KubeApiError} from '../../../src/engines/kubernetes/api.js'
import {jobState, kubernetesJobView, parseJobId, podBlocked, podState, type Job, type Pod} from '../../../src/engines/kubernetes/job-state.js'
import {appliedObject, cleanForReapply, extractFields} from '../../../src/engines/kubernetes/reapply.js'
import type {KubeObject} from '../../../src/engines/kubernetes/manifests.js'
import {renderJob, renderJobs} from '../../../src/output/render-jobs.js'

/** A Job applied by cms (server-side apply, manager cms) that completed, and its pod, as the v1.34 API returned them. */
const fixture = JSON.parse(readFileSync(new URL('fixtures/completed-job.json', import.meta.url), 'utf8')) as {job: Job & KubeObject; pod: Pod}

const job = (status: Job['status'], extra: Partial<Job['metadata']> = {}): Job => ({metadata: {name: 'j', namespace: 'ns', ...extra}, status})
const cond = (type: string, status = 'True', lastTransitionTime = '2026-11-29T10:00:10Z') => ({type, status, lastTransitionTime})
const pod = (phase: string | undefined, status: Partial<NonNullable<Pod['status']>> = {}, meta: Partial<Pod['metadata']> = {}): Pod => ({
  metadata: {name: 'p', namespace: 'ns', creationTimestamp: '2026-11-29T10:00:00Z', ...meta},
  status: {phase, ...status},
})

describe('Kubernetes job states', () => {
  it("maps a Job's conditions: Complete/SuccessCriteriaMet succeed, Failed/FailureTarget fail", () => {
    expect(jobState(job({conditions: [cond('SuccessCriteriaMet'), cond('Complete')], succeeded: 1}))).toBe('SUCCEEDED')
    expect(jobState(job({conditions: [cond('SuccessCriteriaMet')]}))).toBe('SUCCEEDED')
    expect(jobState(job({conditions: [cond('FailureTarget')], active: 1}))).toBe('FAILED')
    expect(jobState(job({conditions: [cond('Failed')], failed: 1}))).toBe('FAILED')
    expect(jobState(job({conditions: [cond('Failed', 'False')], active: 1, ready: 1}))).toBe('RUNNING')
    // Pods created but pending are not running yet; a ready or running pod is.
    expect(jobState(job({active: 1}))).toBe('SUBMITTED')
    expect(jobState(job({active: 1, ready: 1}))).toBe('RUNNING')
    expect(jobState(job({active: 1}), [pod('Running')])).toBe('RUNNING')
    expect(jobState(job({active: 1}), [pod('Pending')])).toBe('SUBMITTED')
    expect(jobState(job({}))).toBe('SUBMITTED')
    expect(jobState(job(undefined))).toBe('SUBMITTED')
    expect(jobState(job({conditions: [cond('Suspended')], failed: 1}))).toBe('SUBMITTED')
    expect(jobState(job({active: 1, ready: 1}, {deletionTimestamp: '2026-11-29T10:00:00Z'}))).toBe('KILLED')
    // A Job that ended keeps its end state while it is being deleted.
    expect(jobState(job({conditions: [cond('Complete')]}, {deletionTimestamp: '2026-11-29T10:00:00Z'}))).toBe('SUCCEEDED')
  })

  it("maps a bare Pod's phase", () => {
    expect(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown', undefined].map((p) => podState(pod(p)))).toEqual(['SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'UNKNOWN', 'SUBMITTED'])
    expect(podState(pod('Running', {}, {deletionTimestamp: '2026-11-29T10:00:00Z'}))).toBe('KILLED')
  })

  it('says why a pending pod cannot run: no node, or an image it cannot have', () => {
    expect(podBlocked(pod('Pending', {conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.'}]}))).toBe('pod p: 0/2 nodes are available: 2 Insufficient cpu.')
    expect(podBlocked(pod('Pending', {containerStatuses: [{name: 'c', state: {waiting: {reason: 'ErrImageNeverPull', message: 'image "x" is not present'}}}]}))).toBe(
      'pod p: container c: ErrImageNeverPull (image "x" is not present)',
    )
    // Transient: being created, or waiting for a ConfigMap that may come.
    expect(podBlocked(pod('Pending', {containerStatuses: [{name: 'c', state: {waiting: {reason: 'ContainerCreating'}}}]}))).toBe('')
    expect(podBlocked(pod('Pending', {containerStatuses: [{name: 'c', state: {waiting: {reason: 'CreateContainerConfigError'}}}]}))).toBe('')
    expect(podBlocked(pod('Running', {conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable'}]}))).toBe('')
  })

  it('parses ids as NAMESPACE/NAME (NAME alone in default) and refuses anything that cannot name a Job or Pod', () => {
    expect(parseJobId('team-a/pi.run-1')).toEqual({namespace: 'team-a', name: 'pi.run-1'})
    expect(parseJobId('hello')).toEqual({namespace: 'default', name: 'hello'})
    for (const bad of ['a/b/c', 'Team/x', 'ns/', '/x', 'ns/Bad_Name', 'a.b/x', '', `ns/${'a'.repeat(254)}`]) expect(parseJobId(bad), bad).toBeUndefined()
  })

  it('views a completed Job with its pod as the API reported them', () => {
    const view = kubernetesJobView('c1', {kind: 'Job', job: fixture.job, pods: [fixture.pod]})
    expect(view).toEqual({
      id: 'default/fx',
      name: 'fx',
      cluster: 'c1',
      kind: 'kubernetes',
      state: 'SUCCEEDED',
      createdAt: '2026-11-29T11:12:19Z',
      retries: 1,
      priority: 0,
      attempts: [{n: 1, submittedAt: fixture.pod.metadata.creationTimestamp, mode: 'pod', state: 'SUCCEEDED', pod: fixture.pod.metadata.name, node: 'cms-kj-dev-2', clientStatus: 'Succeeded', exitCode: 0}],
      type: 'Job',
      status: 'Complete',
      startedAt: '2026-11-29T11:12:19Z',
      endedAt: '2026-11-29T11:12:24Z',
      durationMs: 5000,
    })
  })

  it('views a failed Job: attempts in creation order, the failing exit code, ended when it failed', () => {
    const failedPod = (name: string, at: string, code: number): Pod => ({
      metadata: {name, namespace: 'ns', creationTimestamp: at},
      spec: {nodeName: 'n1'},
      status: {phase: 'Failed', containerStatuses: [{name: 'a', state: {terminated: {exitCode: 0}}}, {name: 'b', state: {terminated: {exitCode: code}}}]},
    })
    const j: Job = {
      metadata: {name: 'j', namespace: 'ns', creationTimestamp: '2026-11-29T10:00:00Z', annotations: {'cms.rerun-of': 'ns/j'}},
      spec: {backoffLimit: 1},
      status: {startTime: '2026-11-29T10:00:01Z', failed: 2, conditions: [cond('FailureTarget', 'True', '2026-11-29T10:00:20Z'), cond('Failed', 'True', '2026-11-29T10:00:21Z')]},
    }
    const view = kubernetesJobView('c1', {kind: 'Job', job: j, pods: [failedPod('j-b', '2026-11-29T10:00:10Z', 4), failedPod('j-a', '2026-11-29T10:00:01Z', 3)]})
    expect(view).toMatchObject({state: 'FAILED', status: 'Failed', retries: 1, rerunOf: 'ns/j', endedAt: '2026-11-29T10:00:21Z', durationMs: 20_000})
    expect(view.attempts.map((a) => [a.n, a.pod, a.exitCode])).toEqual([
      [1, 'j-a', 3],
      [2, 'j-b', 4],
    ])
  })

  it('views a bare Pod, and a blocked one with the reason', () => {
    const p = pod('Pending', {containerStatuses: [{name: 'c', state: {waiting: {reason: 'ImagePullBackOff'}}}]}, {annotations: {'cms.kind': 'python', 'cms.spec': 'pi'}})
    const view = kubernetesJobView('c1', {kind: 'Pod', pod: p})
    expect(view).toMatchObject({id: 'ns/p', name: 'pi', kind: 'python', type: 'Pod', state: 'SUBMITTED', status: 'Pending', retries: 0, placementFailures: 'pod p: container c: ImagePullBackOff'})
    expect(view.attempts).toHaveLength(1)
    const done = kubernetesJobView('c1', {kind: 'Pod', pod: fixture.pod})
    expect(done).toMatchObject({state: 'SUCCEEDED', startedAt: '2026-11-29T11:12:19Z', endedAt: '2026-11-29T11:12:20Z', durationMs: 1000})
    expect(done.placementFailures).toBeUndefined()
  })
})

describe('what rerun applies again', () => {
  it("recovers exactly cms's applied fields from managedFields: no status, selector, controller labels or defaults", () => {
    expect(appliedObject(fixture.job)).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {name: 'fx', namespace: 'default', labels: {'app.kubernetes.io/managed-by': 'cms'}},
      spec: {
        backoffLimit: 1,
        template: {
          metadata: {labels: {app: 'fx'}},
          spec: {
            restartPolicy: 'Never',
            containers: [{name: 'main', image: 'cms-kj-dev-busybox:test', imagePullPolicy: 'Never', command: ['/bin/sh', '-c', 'echo hi'], env: [{name: 'A', value: '1'}], ports: [{containerPort: 8080}]}],
          },
        },
      },
    })
  })

  it('walks fieldsV1: fields, keyed list items, set values, indexes, whole values at leaves', () => {
    const value = {a: 1, b: {c: 2, d: 3}, list: [{k: 'x', v: 1, extra: 9}, {k: 'y', v: 2}], set: ['p', 'q'], arr: [[1], [2]], atomic: {z: [1, 2]}}
    const fields = {'f:a': {}, 'f:b': {'f:c': {}}, 'f:list': {'k:{"k":"y"}': {'.': {}, 'f:k': {}, 'f:v': {}}}, 'f:set': {'v:"q"': {}}, 'f:arr': {'i:1': {}}, 'f:atomic': {}, 'f:missing': {}}
    expect(extractFields(value, fields)).toEqual({a: 1, b: {c: 2}, list: [{k: 'y', v: 2}], set: ['q'], arr: [[2]], atomic: {z: [1, 2]}})
  })

  it('cleans objects cms did not apply: server metadata, status, generated selector and labels, node binding', () => {
    const {managedFields: _, ...metadata} = fixture.job.metadata
    const cleaned = cleanForReapply({...fixture.job, metadata} as KubeObject) as KubeObject & {spec: {selector?: unknown; template: {metadata: {labels: Record<string, string>}}}}
    expect(cleaned.metadata).toEqual({name: 'fx', namespace: 'default', labels: {'app.kubernetes.io/managed-by': 'cms'}})
    expect(cleaned.status).toBeUndefined()
    expect(cleaned.spec.selector).toBeUndefined()
    expect(cleaned.spec.template.metadata.labels).toEqual({app: 'fx'})
    const p = cleanForReapply({apiVersion: 'v1', kind: 'Pod', ...(fixture.pod as object)} as KubeObject) as KubeObject & {spec: {nodeName?: string}}
    expect(p.spec.nodeName).toBeUndefined()
    expect(p.metadata.uid).toBeUndefined()
    // A Job whose selector the user chose keeps it.
    const manual = cleanForReapply({...fixture.job, spec: {...(fixture.job.spec as object), manualSelector: true}} as KubeObject) as KubeObject & {spec: {selector?: unknown}}
    expect(manual.spec.selector).toBeDefined()
  })
})

describe('API refusals', () => {
  const err = (status: number, message: string) => new KubeApiError(status, message, undefined, undefined, 'PATCH', '/x')
  it('takes validation errors and typed-patch failures as refusals of the object, not server failures', () => {
    expect(refusalMessage(err(422, 'Job.batch "x" is invalid: spec.backoffLimit: Invalid value: -1'))).toBe('Job.batch "x" is invalid: spec.backoffLimit: Invalid value: -1')
    expect(refusalMessage(err(500, 'failed to create typed patch object (default/smoke; batch/v1, Kind=Job): .spec.backofLimit: field not declared in schema'))).toBe(
      '.spec.backofLimit: field not declared in schema',
    )
    expect(refusalMessage(err(404, 'namespaces "nope" not found'))).toBe('namespaces "nope" not found')
    expect(refusalMessage(err(500, 'etcdserver: request timed out'))).toBeUndefined()
    expect(refusalMessage(err(401, 'Unauthorized'))).toBeUndefined()
    expect(refusalMessage(new Error('ECONNREFUSED'))).toBeUndefined()
  })
})

describe('Kubernetes jobs on screen', () => {
  it('lists Jobs and Pods with their Kubernetes status, pods, start and duration; shows a job with its pods', () => {
    const view = kubernetesJobView('c1', {kind: 'Job', job: fixture.job, pods: [fixture.pod]})
    expect(renderJobs([view]).split('\n')).toEqual([
      'JOB          KIND   STATE       STATUS     PODS   STARTED                DURATION',
      'default/fx   Job    SUCCEEDED   Complete   1      2026-11-29T11:12:19Z   5s',
    ])
    const shown = renderJob(view)
    expect(shown).toContain('Kind:      kubernetes (Kubernetes Job)')
    expect(shown).toContain('Ended:     2026-11-29T11:12:24Z (ran 5s)')
    expect(shown).toMatch(new RegExp(`${fixture.pod.metadata.name}\\s+SUCCEEDED\\s+Succeeded\\s+cms-kj-dev-2\\s+0\\s`))
  })
})
