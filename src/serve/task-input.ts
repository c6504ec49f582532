/**
 * What a client may send as a task (POST /task, /tasks), checked with the same rules as `cms cluster submit`: the
 * portable spec's schema, native jobfiles, and the classic executor form ({jobId, jobType: SparkApp, ...}) mapped to
 * a spec. Pure: uploads arrive already stored, as name -> file reference. Errors are one line naming the field.
 */
import {DEFAULT_NOTIFY_ON, notifySchema, type Notify} from './notify/webhook.js'
import {createHash, randomBytes} from 'node:crypto'
import {z} from 'zod'
import {isUrl, parseJobSpec, type JobSpec} from '../jobs/spec.js'
import {UsageError} from '../remote/errors.js'
import {CLUSTER_NAME_RE} from '../cluster/names.js'
import {memoryMb, specDemand, type Demand} from './queue/capacity.js'
import type {FileRef} from './store/store.js'

export const TASK_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
export const JOBFILE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\.(hcl|nomad|json|ya?ml)$/i
export const MAX_JOBFILE_BYTES = 1024 * 1024
export const MAX_CLUSTERS = 5

const clusterName = z.string({error: 'expected a cluster name'}).regex(CLUSTER_NAME_RE, {error: 'must be a cluster name: 2-32 lowercase letters, digits and single hyphens, starting with a letter'}).refine((s) => !s.includes('--'), {error: 'must be a cluster name: single hyphens only'})
const clusterRef = z.union([clusterName, z.array(clusterName).min(1, {error: 'must name at least one cluster'}).max(MAX_CLUSTERS, {error: `at most ${MAX_CLUSTERS} clusters`})], {
  // zod fails an over-long list before its elements (an aborted issue), so the union reports it with this message.
  error: (iss) => (iss.input === undefined ? 'required' : Array.isArray(iss.input) && iss.input.length > MAX_CLUSTERS ? `at most ${MAX_CLUSTERS} clusters` : 'expected a cluster name or a list of them (the first healthy one is used)'),
})
const wholeNumber = (lo: number, hi: number) => z.int({error: `expected a whole number from ${lo} to ${hi}`}).min(lo, {error: `expected a whole number from ${lo} to ${hi}`}).max(hi, {error: `expected a whole number from ${lo} to ${hi}`})
const taskId = z.string().regex(TASK_ID_RE, {error: 'must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit'})

export const resourcesSchema = z.strictObject({
  cores: z.number({error: 'expected a number of cores'}).positive({error: 'expected a number of cores > 0'}).max(100_000),
  memory: z.string().regex(/^\d+[kmgt]?$/i, {error: 'expected a size like 512m or 2g'}),
}, {error: 'expected {cores, memory}'})

export const taskSchema = z.strictObject({
  id: taskId.optional(),
  cluster: clusterRef,
  spec: z.record(z.string(), z.unknown(), {error: 'expected a job spec (a JSON object)'}).optional(),
  jobfile: z
    .strictObject({
      name: z.string().regex(JOBFILE_NAME_RE, {error: 'expected a file name ending in .hcl, .nomad, .json, .yaml or .yml'}),
      content: z.string().max(MAX_JOBFILE_BYTES, {error: `longer than ${MAX_JOBFILE_BYTES} bytes`}),
    }, {error: 'expected {name, content}'})
    .optional(),
  priority: wholeNumber(0, 1000).optional(),
  retries: wholeNumber(0, 10).optional(),
  /** What the task takes while it runs, for admission (native jobfiles; a spec's own figures otherwise). */
  resources: resourcesSchema.optional(),
  /** A webhook called when the task fails an attempt or ends. */
  notify: notifySchema.optional(),
})

export const classicTaskSchema = z.strictObject({
  jobId: taskId,
  jobType: z.literal('SparkApp', {error: 'only SparkApp is supported'}),
  sparkAppPath: z.string({error: 'expected the app\'s path or URL'}),
  mainClass: z.string().optional(),
  parameters: z.union([z.array(z.union([z.string(), z.number()])), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))], {error: 'expected a list of arguments or a mapping of options'}).optional(),
  dependencies: z.array(z.string(), {error: 'expected a list of paths or URLs'}).optional(),
  cluster: clusterRef.optional(),
  priority: wholeNumber(0, 1000).optional(),
  retries: wholeNumber(0, 10).optional(),
})

export type TaskInput = z.input<typeof taskSchema>

/** A task as checked: ready to store. */
export interface ParsedTask {
  id?: string
  clusters: string[]
  name: string
  kind: 'spec' | 'jobfile'
  spec?: JobSpec
  jobfile?: {name: string; content: string}
  priority: number
  retries: number
  /** Undefined for a jobfile without `resources`: the engine's figure is worked out once the engine is known. */
  demand?: Demand
  files: FileRef[]
  notify?: Notify
}

/** Task fields, for "did you mean" and for the classic form's detection. */
const TASK_FIELDS = Object.keys(taskSchema.shape)
const CLASSIC_FIELDS = Object.keys(classicTaskSchema.shape)

export function issuesLine(prefix: string, issues: readonly z.core.$ZodIssue[], known: readonly string[]): string {
  const lines = issues.map((iss) => {
    const where = [prefix, ...iss.path.map(String)].filter(Boolean).join('.')
    if (iss.code === 'unrecognized_keys') return iss.keys.map((k) => `${[where, k].filter(Boolean).join('.')}: unknown field (known: ${known.join(', ')})`).join('; ')
    return `${where || 'body'}: ${iss.message}`
  })
  return [...new Set(lines)].join('; ')
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The classic executor form as a task: dependencies become jars or pyFiles by their extension. */
export function classicToTask(raw: z.output<typeof classicTaskSchema>, defaultCluster?: string): z.input<typeof taskSchema> {
  const params = raw.parameters
  const args = Array.isArray(params) ? params.map(String) : params ? Object.entries(params).flatMap(([k, v]) => [k.startsWith('-') ? k : `--${k}`, String(v)]) : []
  const deps = raw.dependencies ?? []
  const spec: Record<string, unknown> = {app: raw.sparkAppPath, args}
  if (raw.mainClass !== undefined) spec.mainClass = raw.mainClass
  // A URL's extension is its path's (a signed URL ends in its query).
  const path = (d: string) => (isUrl(d) ? d.replace(/[?#].*$/, '') : d)
  const jars = deps.filter((d) => /\.jar$/i.test(path(d)))
  const pyFiles = deps.filter((d) => /\.(py|zip|egg)$/i.test(path(d)))
  const other = deps.filter((d) => !jars.includes(d) && !pyFiles.includes(d))
  if (jars.length) spec.jars = jars
  if (pyFiles.length) spec.pyFiles = pyFiles
  if (other.length) spec.files = other
  const cluster = raw.cluster ?? defaultCluster
  return {id: raw.jobId, cluster: cluster as string, spec, ...(raw.priority !== undefined ? {priority: raw.priority} : {}), ...(raw.retries !== undefined ? {retries: raw.retries} : {})}
}

/**
 * Checks one task body. `uploads` are the request's files by name; every local path of the spec must be one of
 * them (and every upload must be used). `where` prefixes messages in a batch (`tasks[3]`).
 */
export function parseTask(raw: unknown, opts: {uploads?: ReadonlyMap<string, FileRef>; defaultCluster?: string; where?: string} = {}): ParsedTask {
  const where = opts.where ?? ''
  const at = (field: string) => [where, field].filter(Boolean).join('.')
  if (!isObject(raw)) throw new UsageError(`${where || 'body'}: expected a task (a JSON object)`)
  if ('jobType' in raw || ('jobId' in raw && !('spec' in raw) && !('jobfile' in raw))) {
    const classic = classicTaskSchema.safeParse(raw)
    if (!classic.success) throw new UsageError(issuesLine(where, classic.error.issues, CLASSIC_FIELDS))
    if (!classic.data.cluster && !opts.defaultCluster) throw new UsageError(`${at('cluster')}: required (or start cms serve with --default-cluster)`)
    raw = classicToTask(classic.data, opts.defaultCluster)
  }
  const parsed = taskSchema.safeParse(raw)
  if (!parsed.success) throw new UsageError(issuesLine(where, parsed.error.issues, TASK_FIELDS))
  const t = parsed.data
  const clusters = typeof t.cluster === 'string' ? [t.cluster] : [...new Set(t.cluster)]
  if ((t.spec === undefined) === (t.jobfile === undefined)) throw new UsageError(`${where || 'body'}: give either spec (a portable job spec) or jobfile ({name, content}), not ${t.spec ? 'both' : 'neither'}`)
  const uploads = opts.uploads ?? new Map<string, FileRef>()
  const notify = t.notify ? {url: t.notify.url, on: t.notify.on ? [...new Set(t.notify.on)] : DEFAULT_NOTIFY_ON} : undefined
  const demandOverride = t.resources ? {cores: t.resources.cores, memoryMb: memoryMb(t.resources.memory, 0)} : undefined
  if (t.jobfile) {
    if (uploads.size > 0) throw new UsageError(`${at('files')}: a jobfile task takes no uploaded files (${[...uploads.keys()].join(', ')})`)
    return {id: t.id, clusters, name: t.jobfile.name.replace(/\.[^.]+$/, ''), kind: 'jobfile', jobfile: t.jobfile, priority: t.priority ?? 0, retries: t.retries ?? 0, demand: demandOverride, files: [], notify}
  }
  const spec = parseJobSpec(t.spec, at('spec'))
  const files = specFiles(spec, uploads, at('spec'))
  // The spec's own priority and retries apply when the task does not set them; the engine gets no retries of its
  // own (the service retries, so that every attempt is in the audit trail).
  return {
    id: t.id,
    clusters,
    name: spec.name,
    kind: 'spec',
    spec: {...spec, retries: 0},
    priority: t.priority ?? spec.priority,
    retries: t.retries ?? spec.retries,
    demand: demandOverride,
    files,
    notify,
  }
}

/** The uploads a spec names (by file name), in a stable order; a local path that was not uploaded is an error. */
function specFiles(spec: JobSpec, uploads: ReadonlyMap<string, FileRef>, at: string): FileRef[] {
  const used = new Map<string, FileRef>()
  const problems: string[] = []
  const check = (field: string, p: string) => {
    if (isUrl(p)) return
    const ref = uploads.get(p)
    if (ref) used.set(p, ref)
    else problems.push(p.includes('/') ? `${field}: ${p}: name an uploaded file by its file name, or give a URL` : `${field}: ${p} was not uploaded (send it as a file part)`)
  }
  check('app', spec.app)
  spec.jars.forEach((p, i) => check(`jars[${i}]`, p))
  spec.pyFiles.forEach((p, i) => check(`pyFiles[${i}]`, p))
  spec.files.forEach((p, i) => check(`files[${i}]`, p))
  for (const name of uploads.keys()) if (!used.has(name)) problems.push(`${name}: uploaded but not named by the spec`)
  if (problems.length > 0) throw new UsageError(`${at}: ${problems.join('; ')}`)
  return [...used.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** The demand admission uses: what the task says, else the spec's figures, else one core for a native jobfile. */
export function taskDemand(task: ParsedTask, engine: string): Demand {
  if (task.demand) return task.demand
  if (task.spec) return specDemand(task.spec, engine)
  return {cores: 1, memoryMb: 0}
}

/** A new task id when the client gives none: time-ordered, then random. */
export function newTaskId(now = Date.now()): string {
  return `t${now.toString(36)}-${randomBytes(5).toString('hex')}`
}

/**
 * The name a spec task's attempt gets on its engine: the spec's name, then a short hash of the task id and the
 * attempt number, so that a submission interrupted by a crash can be found again by name.
 */
export function attemptJobName(specName: string, taskId: string, n: number): string {
  const tag = createHash('sha256').update(taskId).digest('hex').slice(0, 10)
  const suffix = `-q${tag}-${n}`
  return `${specName.slice(0, 63 - suffix.length).replace(/[-.]+$/, '')}${suffix}`
}
