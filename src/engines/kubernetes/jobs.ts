import {StringDecoder} from 'node:string_decoder'
import {TERMINAL} from '../../jobs/states.js'
import type {JobList, JobView} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'
import {mapLimit} from '../../remote/fanout.js'
import type {JobService, JobsInput, LoadedJob, LogOptions} from '../engine.js'
import {JOBS, jobPath, KubeApi, KubeApiError, PODS, podPath, type KubeAccess} from './api.js'
import {applyObject, refusalLine, refusalMessage, resolveObject, type ResolvedObject} from './apply.js'
import type {KubernetesJobFile} from './job-files.js'
import {kubernetesJobView, parseJobId, type Job, type KubernetesJobFacts, type Pod} from './job-state.js'
import {checkObject, describeObject, isWorkload, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type KubeObject, type ManifestObject} from './manifests.js'
import {appliedObject} from './reapply.js'

export type SpecJobFile = Extract<KubernetesJobFile, {kind: 'spec'}>

export interface KubernetesJobsOptions {
  /**
   * The seam for portable job specs: the Kubernetes objects that run one (the engine wires the spec translator here,
   * e.g. src/jobs/kubernetes-translate.ts). Without it, job specs are refused with a UsageError.
   */
  translateSpec?: (job: SpecJobFile) => Promise<object[]>
  /** Longest pause between two looks at a job while waiting, following logs or deleting (ms, at least 1000). */
  pollMs?: number
  /** Longest wait for a deletion to finish (kill --purge, rerun), ms. */
  deleteTimeoutMs?: number
  /** Releases what the service's access holds (the SSH forward to the API), when it closes. */
  onClose?: () => Promise<void>
}

/** The objects of one file, applied once (in order, Namespaces first) by whichever of its jobs is submitted first. */
interface ApplyGroup {
  file: string
  objects: ResolvedObject[]
  applied?: Promise<Map<ResolvedObject, KubeObject>>
}

/** One Job or bare Pod of a file, ready to submit. */
type PreparedJob = LoadedJob & {group: ApplyGroup; target: ResolvedObject}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** How long a job must be seen unable to run (no node for it, no image) before wait stops following it. */
const BLOCKED_MS = 10_000
const JOB_PODS_LABEL = 'batch.kubernetes.io/controller-uid'
const applyRank = (o: KubeObject) => (o.kind === 'Namespace' && o.apiVersion === 'v1' ? 0 : isWorkload(o) ? 2 : 1)
/** "document 3, item 2" -> a number that sorts documents, then a List's items, in file order. */
const documentOrder = (where: string) => {
  const [doc = 0, item = 0] = (where.match(/\d+/g) ?? []).map(Number)
  return doc * 100_000 + item
}
const isController = (p: Pod) => (p.metadata.ownerReferences ?? []).some((o) => o.controller)

/**
 * Jobs through the Kubernetes API: manifests applied with server-side apply (field manager `cms`) after a dry run of
 * every object of every file; Jobs and bare Pods followed by their conditions and phases; pod logs through the
 * pods/log API. Job ids are NAMESPACE/NAME, as kubectl names objects.
 */
export class KubernetesJobService implements JobService {
  readonly takesS3Access = true
  private readonly api: KubeApi
  private readonly pollMs: number
  private readonly deleteTimeoutMs: number

  /** `kc`: a client-node KubeConfig, or certificateAccess() (client.ts) built from the cluster's admin PEMs. */
  constructor(
    kc: KubeAccess,
    private readonly input: Pick<JobsInput, 'cluster' | 'log'>,
    private readonly opts: KubernetesJobsOptions = {},
  ) {
    this.api = new KubeApi(kc)
    this.pollMs = Math.max(1000, opts.pollMs ?? 2000)
    this.deleteTimeoutMs = opts.deleteTimeoutMs ?? 120_000
  }

  /** Closes the API connections kept alive, then what `opts.onClose` releases (the SSH forward to the API). */
  async close(): Promise<void> {
    this.api.close()
    await this.opts.onClose?.()
  }

  private async specObjects(f: SpecJobFile): Promise<ManifestObject[]> {
    if (!this.opts.translateSpec) throw new UsageError(`${f.file}: this cms cannot run portable job specs on Kubernetes yet: submit a Kubernetes manifest (a Job or a Pod)`)
    const objects = await this.opts.translateSpec(f)
    return objects.map((o, i) => ({where: `object ${i + 1} translated from the job spec`, object: checkObject(o, f.file, `object ${i + 1} translated from the job spec`)}))
  }

  /**
   * Resolves every object of every file (kinds the API serves, namespaces defaulted) and runs a server-side apply dry
   * run of each: the API server's own validation. One UsageError naming every refused object; nothing is applied.
   */
  async prepare(jobs: LoadedJob[]): Promise<LoadedJob[]> {
    const groups = await mapLimit(jobs as KubernetesJobFile[], 4, async (f): Promise<ApplyGroup | string> => {
      try {
        const manifest = f.kind === 'manifest' ? f.objects : await this.specObjects(f)
        if (!manifest.some((m) => isWorkload(m.object))) throw new UsageError(`${f.file}: the job spec's translation has no Job or Pod to follow`)
        const objects: ResolvedObject[] = []
        for (const m of manifest) objects.push(await resolveObject(this.api, f.file, m))
        // Namespaces first, so the file's other objects can live in them, Jobs and Pods last, so what they use
        // (ConfigMaps, Secrets, ServiceAccounts) exists when they start; otherwise the file's order.
        objects.sort((a, b) => applyRank(a.object) - applyRank(b.object))
        return {file: f.file, objects}
      } catch (error) {
        if (!(error instanceof UsageError)) throw error
        return error.message
      }
    })
    const errors = groups.filter((g): g is string => typeof g === 'string')
    const ready = groups.filter((g): g is ApplyGroup => typeof g !== 'string')
    // Two files of one batch must not submit the same Job or Pod: the second would silently replace the first.
    const owner = new Map<string, string>()
    for (const g of ready) {
      for (const o of g.objects.filter((x) => isWorkload(x.object))) {
        const key = describeObject(o.object)
        const first = owner.get(key)
        if (first !== undefined && first !== g.file) errors.push(`${g.file}: ${o.where}: ${key} is also in ${first}: submit it once`)
        owner.set(key, first ?? g.file)
      }
    }
    if (errors.length > 0) throw new UsageError(errors.join('\n'))
    // A dry run cannot create a namespace: objects in a Namespace of this batch are checked once it exists.
    const newNamespaces = new Set(ready.flatMap((g) => g.objects.filter((o) => o.object.kind === 'Namespace' && o.object.apiVersion === 'v1').map((o) => o.object.metadata.name)))
    const all = ready.flatMap((g) => g.objects)
    const refusals = await mapLimit(all, 8, async (r): Promise<string | undefined> => {
      try {
        await applyObject(this.api, r, {dryRun: true})
        return undefined
      } catch (error) {
        const message = refusalMessage(error)
        if (message === undefined) throw error
        const e = error as KubeApiError
        if (e.status === 404 && e.details?.kind === 'namespaces' && newNamespaces.has(e.details.name ?? '')) return undefined
        return refusalLine(r, message)
      }
    })
    // Named in the files' own order (applying reorders a file's objects: Namespaces first, workloads last).
    const refused = all
      .map((r, i) => ({line: refusals[i], group: ready.findIndex((g) => g.objects.includes(r)), doc: documentOrder(r.where)}))
      .filter((x) => x.line !== undefined)
      .sort((a, b) => a.group - b.group || a.doc - b.doc)
    if (refused.length > 0) throw new UsageError(refused.map((x) => x.line).join('\n'))
    return ready.flatMap((group) =>
      group.objects.filter((o) => isWorkload(o.object)).map((target): PreparedJob => ({file: group.file, name: target.object.metadata.name, group, target})),
    )
  }

  private async applyGroup(group: ApplyGroup): Promise<Map<ResolvedObject, KubeObject>> {
    const stored = new Map<ResolvedObject, KubeObject>()
    for (const r of group.objects) {
      try {
        stored.set(r, await applyObject(this.api, r))
      } catch (error) {
        const message = refusalMessage(error)
        if (message === undefined) throw error
        throw new Error(`${refusalLine(r, message)} (objects before it in the file were applied)`)
      }
      this.input.log(`Applied ${describeObject(r.object)} (${group.file})`)
    }
    return stored
  }

  /** Applies the job's file (once, whichever of its jobs comes first); the view is the Job or Pod the API stored. */
  async submit(job: LoadedJob): Promise<JobView> {
    const {group, target} = job as PreparedJob
    if (!group || !target) throw new Error(`${job.file}: submit needs the jobs prepare() returned`)
    group.applied ??= this.applyGroup(group)
    const stored = (await group.applied).get(target)!
    const view = kubernetesJobView(this.input.cluster, stored.kind === 'Job' ? {kind: 'Job', job: stored as unknown as Job, pods: []} : {kind: 'Pod', pod: stored as unknown as Pod})
    // Applying an unchanged Job that already ran changes nothing (as kubectl apply): say so rather than seem to run it.
    if (TERMINAL.has(view.state)) this.input.log(`${view.id} already existed and is ${view.state}: applying it again does not run it ('cms job rerun -n ${this.input.cluster} ${view.id}' does)`)
    return view
  }

  private notFound(id: string): UsageError {
    return new UsageError(`job ${JSON.stringify(id)} not found on cluster ${this.input.cluster}: no Job or Pod of that name (see 'cms job list -n ${this.input.cluster}')`)
  }

  private parse(id: string): {namespace: string; name: string} {
    const ref = parseJobId(id)
    if (!ref) throw new UsageError(`invalid job id ${JSON.stringify(id)}: expected NAMESPACE/NAME (or NAME in the default namespace), as 'cms job list' shows`)
    return ref
  }

  private async getOrUndefined<T>(path: string): Promise<T | undefined> {
    try {
      return await this.api.request<T>('GET', path)
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined
      throw error
    }
  }

  /** The Job of that name and its pods, else the Pod of that name; undefined when neither exists. */
  private async lookup(id: string): Promise<KubernetesJobFacts | undefined> {
    const {namespace, name} = this.parse(id)
    const job = await this.getOrUndefined<Job>(jobPath(namespace, name))
    if (job) {
      const pods = job.metadata.uid
        ? (await this.api.request<{items: Pod[]}>('GET', podPath(namespace), {query: {labelSelector: `${JOB_PODS_LABEL}=${job.metadata.uid}`}})).items
        : []
      return {kind: 'Job', job, pods}
    }
    const pod = await this.getOrUndefined<Pod>(podPath(namespace, name))
    return pod ? {kind: 'Pod', pod} : undefined
  }

  private async facts(id: string): Promise<KubernetesJobFacts> {
    const found = await this.lookup(id)
    if (!found) throw this.notFound(id)
    return found
  }

  async status(id: string): Promise<JobView> {
    return kubernetesJobView(this.input.cluster, await this.facts(id))
  }

  /**
   * Polls each Job (its conditions) and bare Pod (its phase) until it ends, cannot run (no node for it, an image that
   * cannot be had) or is deleted, or the timeout passes; logs each change. Pauses grow from 1 s to the poll interval.
   */
  async wait(ids: string[], timeoutMs: number, log: (line: string) => void): Promise<JobView[]> {
    const deadline = Date.now() + timeoutMs
    const last = new Map<string, string>()
    const views = new Map<string, JobView>()
    /** Since when each job has been seen unable to run: wait gives up on it after BLOCKED_MS of that. */
    const blockedSince = new Map<string, number>()
    for (let round = 0; round < 1_000_000; round++) {
      await mapLimit(ids, 8, async (id) => {
        const found = await this.lookup(id)
        const view = found ? kubernetesJobView(this.input.cluster, found) : {...(views.get(id) ?? (await this.placeholder(id))), state: 'KILLED' as const, status: 'deleted'}
        views.set(id, view)
        const pods = view.attempts.length > 1 ? ` (${view.attempts.length} pods)` : ''
        const line = `${view.state}${pods}${view.placementFailures ? ` — cannot run: ${view.placementFailures}` : ''}`
        if (last.get(id) !== line) log(`${id}: ${line}`)
        last.set(id, line)
        if (!view.placementFailures) blockedSince.delete(id)
        else if (!blockedSince.has(id)) blockedSince.set(id, Date.now())
      })
      const done = ids.every((id) => TERMINAL.has(views.get(id)!.state) || Date.now() - (blockedSince.get(id) ?? Infinity) >= BLOCKED_MS)
      const left = deadline - Date.now()
      if (done || left <= 0) break
      await sleep(Math.min(left, Math.min(this.pollMs, 1000 + round * 250)))
    }
    return ids.map((id) => views.get(id)!)
  }

  /** A job that is gone before cms ever saw it (wait on an id deleted meanwhile). */
  private async placeholder(id: string): Promise<JobView> {
    const {namespace, name} = this.parse(id)
    return {id: `${namespace}/${name}`, name, cluster: this.input.cluster, kind: 'kubernetes', state: 'KILLED', createdAt: new Date(0).toISOString(), retries: 0, priority: 0, attempts: []}
  }

  /** The Jobs and bare Pods cms applied (its managed-by label), in every namespace, oldest first. */
  async list(): Promise<JobList> {
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`
    const [jobs, pods, jobPods] = await Promise.all([
      this.api.request<{items: Job[]}>('GET', jobPath(), {query: {labelSelector: selector}}),
      this.api.request<{items: Pod[]}>('GET', podPath(), {query: {labelSelector: selector}}),
      this.api.request<{items: Pod[]}>('GET', podPath(), {query: {labelSelector: JOB_PODS_LABEL}}),
    ])
    const byJob = new Map<string, Pod[]>()
    for (const p of jobPods.items) {
      const uid = p.metadata.labels?.[JOB_PODS_LABEL]
      if (uid) byJob.set(uid, [...(byJob.get(uid) ?? []), p])
    }
    const views = [
      ...jobs.items.map((job) => kubernetesJobView(this.input.cluster, {kind: 'Job', job, pods: byJob.get(job.metadata.uid ?? '') ?? []})),
      ...pods.items.filter((p) => !isController(p)).map((pod) => kubernetesJobView(this.input.cluster, {kind: 'Pod', pod})),
    ]
    return {cluster: this.input.cluster, jobs: views.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)), applications: []}
  }

  private objectPath(f: KubernetesJobFacts): string {
    const meta = f.kind === 'Job' ? f.job.metadata : f.pod.metadata
    return f.kind === 'Job' ? jobPath(meta.namespace, meta.name) : podPath(meta.namespace, meta.name)
  }

  /**
   * purge: the ConfigMaps and Secrets cms made for the job (a spec's local files and S3 credentials, labelled cms.job=NAME): a Job cannot own an
   * object made before it, and a rerun needs them, so only a purge removes them.
   */
  private async deleteJobConfigMaps(f: KubernetesJobFacts): Promise<void> {
    const meta = f.kind === 'Job' ? f.job.metadata : f.pod.metadata
    const labelSelector = `cms.job=${meta.name},app.kubernetes.io/managed-by=cms`
    const ns = encodeURIComponent(meta.namespace ?? 'default')
    await this.api.request('DELETE', `/api/v1/namespaces/${ns}/configmaps`, {query: {labelSelector}})
    // The S3 credentials' Secret of a spec job (NAME-s3), made before the Job like the ConfigMaps.
    await this.api.request('DELETE', `/api/v1/namespaces/${ns}/secrets`, {query: {labelSelector}})
  }

  /** Polls until the object is gone (bounded by deleteTimeoutMs); false if it is still there. */
  private async gone(path: string): Promise<boolean> {
    const deadline = Date.now() + this.deleteTimeoutMs
    for (let i = 0; i < 10_000; i++) {
      if (!(await this.getOrUndefined(path))) return true
      if (Date.now() >= deadline) return false
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())))
    }
    return false
  }

  private async deleteObject(path: string, policy: 'Background' | 'Foreground'): Promise<void> {
    try {
      await this.api.request('DELETE', path, {query: {propagationPolicy: policy}})
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error
    }
  }

  /**
   * Deletes the Job (or bare Pod); the view says KILLED, or the state it had already ended in. Without purge:
   * propagation Background, the call returns once the Job is deleted and the garbage collector stops and deletes its
   * pods right after. With purge: propagation Foreground, and cms waits until the API shows the Job gone, which it
   * does only after every one of its pods is gone.
   */
  async kill(id: string, opts: {purge: boolean}): Promise<JobView> {
    const found = await this.facts(id)
    const before = kubernetesJobView(this.input.cluster, found)
    const path = this.objectPath(found)
    await this.deleteObject(path, opts.purge ? 'Foreground' : 'Background')
    // A job that had already ended keeps its end state (its record is deleted all the same).
    const state = TERMINAL.has(before.state) ? before.state : 'KILLED'
    if (opts.purge) await this.deleteJobConfigMaps(found)
    if (opts.purge && !(await this.gone(path))) {
      this.input.log(`${before.id}: still being deleted after ${Math.round(this.deleteTimeoutMs / 1000)} s (its pods are terminating)`)
      return {...before, state, status: 'Terminating'}
    }
    return {...before, state, status: 'deleted'}
  }

  /**
   * Runs a finished Job (or bare Pod) again: the object cms applied (its own fields, from the API's managedFields) is
   * checked with a dry run, the old one deleted with its pods (Foreground, waited for), then applied anew.
   */
  async rerun(id: string): Promise<JobView> {
    const found = await this.facts(id)
    const view = kubernetesJobView(this.input.cluster, found)
    if (!TERMINAL.has(view.state)) throw new UsageError(`job ${view.id} is ${view.state}: rerun takes a finished job ('cms job kill -n ${this.input.cluster} ${view.id}' first)`)
    const live = (found.kind === 'Job' ? found.job : found.pod) as unknown as KubeObject
    const again = appliedObject(live)
    again.metadata.annotations = {...(again.metadata.annotations ?? {}), 'cms.rerun-of': view.id, 'cms.rerun-at': new Date().toISOString()}
    const target = {object: again, resource: found.kind === 'Job' ? JOBS : PODS}
    try {
      await applyObject(this.api, target, {dryRun: true})
    } catch (error) {
      const message = refusalMessage(error)
      if (message === undefined) throw error
      throw new UsageError(`job ${view.id}: the API refuses it again: ${message}`)
    }
    const path = this.objectPath(found)
    await this.deleteObject(path, 'Foreground')
    if (!(await this.gone(path))) throw new Error(`job ${view.id}: still being deleted after ${Math.round(this.deleteTimeoutMs / 1000)} s; rerun it once it is gone`)
    await applyObject(this.api, target)
    this.input.log(`Applied ${describeObject(again)} again`)
    return this.status(view.id)
  }

  /** The pods whose logs to show, oldest first: a Job's pods that have started, or the bare Pod. */
  private logSources(f: KubernetesJobFacts): Array<{pod: Pod; container: string}> {
    const pods = f.kind === 'Job' ? [...f.pods].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')) : [f.pod]
    const started = (p: Pod) => [...(p.status?.containerStatuses ?? [])].some((s) => s.state?.running || s.state?.terminated)
    return pods.filter(started).flatMap((pod) => (pod.spec?.containers ?? []).map((c) => ({pod, container: c.name})))
  }

  /**
   * The output of the job's pods through the pods/log API (a container's stdout and stderr as one stream, as the
   * kubelet keeps them) to `out`; a header per pod and container on `err` when there is more than one. With follow,
   * pods that start later are followed too, until the job ends (or the timeout).
   */
  async logs(id: string, opts: LogOptions): Promise<JobView> {
    const deadline = Date.now() + opts.timeoutMs
    let facts = await this.facts(id)
    const ns = (facts.kind === 'Job' ? facts.job.metadata : facts.pod.metadata).namespace ?? 'default'
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), opts.timeoutMs)
    const stop = () => abort.abort()
    opts.signal?.addEventListener('abort', stop, {once: true})
    const started = new Set<string>()
    const pumps: Array<Promise<void>> = []
    const open = (pod: Pod, container: string, many: boolean) => {
      const key = `${pod.metadata.name}/${container}`
      if (started.has(key)) return
      started.add(key)
      const header = many ? `==> pod ${pod.metadata.name}, container ${container} <==\n` : ''
      let wrote = false
      // A chunk may end inside a multi-byte character: the decoder keeps it for the next one.
      const text = new StringDecoder('utf8')
      const pump = this.api
        .stream(`${podPath(ns, pod.metadata.name)}/log`, {container, follow: opts.follow || undefined}, (chunk) => {
          if (!wrote && header) opts.err(header)
          wrote = true
          opts.out(text.write(chunk))
        }, abort.signal)
        .then(() => {
          const rest = text.end()
          if (rest) opts.out(rest)
        })
        .catch((error: unknown) => opts.err(`${key}: ${error instanceof KubeApiError ? error.apiMessage : (error as Error).message}\n`))
      pumps.push(pump)
      return pump
    }
    try {
      if (!opts.follow) {
        const sources = this.logSources(facts)
        if (sources.length === 0) {
          const view = kubernetesJobView(this.input.cluster, facts)
          opts.err(TERMINAL.has(view.state) ? `${view.id}: no pod of it is left: Kubernetes keeps no logs of deleted pods\n` : `${view.id}: no pod of it has started yet\n`)
        }
        // One after the other, so each pod's output stays together.
        for (const s of sources) await open(s.pod, s.container, sources.length > 1)
        return kubernetesJobView(this.input.cluster, facts)
      }
      let blockedSince: number | undefined
      for (let round = 0; round < 1_000_000 && Date.now() < deadline && !abort.signal.aborted; round++) {
        const sources = this.logSources(facts)
        for (const s of sources) open(s.pod, s.container, sources.length > 1 || started.size > 0)
        const view = kubernetesJobView(this.input.cluster, facts)
        blockedSince = view.placementFailures ? (blockedSince ?? Date.now()) : undefined
        if (blockedSince !== undefined && Date.now() - blockedSince >= BLOCKED_MS) opts.err(`${view.id}: cannot run: ${view.placementFailures}\n`)
        if (TERMINAL.has(view.state) || (blockedSince !== undefined && Date.now() - blockedSince >= BLOCKED_MS)) break
        await sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())))
        const next = await this.lookup(id)
        if (!next) break
        facts = next
      }
      // Streams of containers that ended deliver the rest of their output and close; the others close at the deadline.
      await Promise.race([Promise.allSettled(pumps), sleep(Math.max(0, Math.min(10_000, deadline - Date.now())))])
      return kubernetesJobView(this.input.cluster, (await this.lookup(id)) ?? facts)
    } finally {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', stop)
      abort.abort()
      await Promise.allSettled(pumps)
    }
  }
}
