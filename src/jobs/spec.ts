/**
 * The portable job spec: one file describes one job. The Spark engine runs it now; Nomad and Kubernetes engines
 * translate the same fields later. Pure: no I/O here (loading, path resolution and existence checks live in
 * load.ts). See README-spec.md for the reference.
 */
import {posix} from 'node:path'
import {z} from 'zod'
import {UsageError} from '../remote/errors.js'

export const JOB_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
export const JAVA_CLASS_RE = /^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*$/
export const SPARK_PROPERTY_RE = /^spark\.[A-Za-z0-9_.-]+$/
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
/** A JVM size: digits, then an optional unit k/m/g/t (no unit: MiB, Spark's convention for driver/executor memory). */
export const MEMORY_RE = /^\d+[kmgt]?$/i

/** `scheme://…` — anything with a scheme is a URL (http, https, hdfs, s3a, …) and is never staged from the local disk. */
export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s)
}

function isHttpUrl(s: string): boolean {
  return /^https?:\/\//i.test(s)
}

/** The file name part of a local path or URL (a URL's query and fragment are ignored). */
function fileNameOf(app: string): string {
  if (isUrl(app)) {
    try {
      const last = new URL(app).pathname.split('/').pop() ?? ''
      try {
        return decodeURIComponent(last)
      } catch {
        return last
      }
    } catch {
      return ''
    }
  }
  return posix.basename(app.replace(/\\/g, '/'))
}

/** '.jar', '.py' or undefined, from the app's file name (case-insensitive). */
export function appExtension(app: string): '.jar' | '.py' | undefined {
  const m = /\.(jar|py)$/i.exec(fileNameOf(app))
  return m ? (`.${m[1]!.toLowerCase()}` as '.jar' | '.py') : undefined
}

/** A job name derived from the app: its file name without extension, made to match JOB_NAME_RE. */
export function defaultJobName(app: string): string {
  const stem = fileNameOf(app).replace(/\.(jar|py)$/i, '')
  const name = stem
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[-.]+$/, '')
  return name.length > 0 ? name : 'job'
}

/**
 * Properties cms sets itself from the spec's fields; setting them in `conf` would silently fight the engine
 * (a different master, a local path that is never uploaded), so they are rejected with a pointer to the field.
 */
export const RESERVED_CONF: Readonly<Record<string, string>> = {
  'spark.master': 'set by cms to the cluster\'s master',
  'spark.submit.deployMode': 'chosen by the engine (cluster for a .jar, client for a .py)',
  'spark.app.name': 'set from the name field',
  'spark.jars': 'use the jars field (its local files are uploaded)',
  'spark.files': 'use the files field (its local files are uploaded)',
  'spark.submit.pyFiles': 'use the pyFiles field (its local files are uploaded)',
}

// ---- field schemas (each with its own one-line message) -------------------------------------------------------

type ErrorFn = (iss: {input?: unknown}) => string

const typeMsg = (what: string): ErrorFn => (iss) => (iss.input === undefined ? 'required' : `expected ${what}, got ${describe(iss.input)}`)

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') return `a string`
  return `${typeof v} ${String(v)}`
}

const str = (what = 'a string') => z.string({error: typeMsg(what)})

/** A string, or a number/boolean written without quotes (YAML), turned into its string form. */
const scalarString = (what: string) =>
  z.union([z.string(), z.number(), z.boolean()], {error: typeMsg(what)}).transform((v) => String(v))

const location = str('a path or URL')
  .min(1, {error: 'must not be empty'})
  .refine((s) => !s.includes('\0'), {error: 'must not contain NUL'})
  .refine((s) => !s.includes(','), {error: 'must not contain a comma (Spark joins these lists with commas)'})

const positiveInt = () =>
  z.number({error: typeMsg('a whole number ≥ 1')}).int({error: 'expected a whole number ≥ 1'}).min(1, {error: 'expected a whole number ≥ 1'})

const memory = str('a size like 512m or 2g').regex(MEMORY_RE, {error: 'expected a size like 512m or 2g (digits, then k, m, g or t; no unit means MiB)'})

const driverSchema = z.strictObject(
  {
    cores: positiveInt().optional(),
    memory: memory.optional(),
  },
  {error: typeMsg('a mapping with cores and memory')},
)

const executorSchema = z.strictObject(
  {
    cores: positiveInt().optional(),
    memory: memory.optional(),
    instances: positiveInt().optional(),
  },
  {error: typeMsg('a mapping with cores, memory and instances')},
)

const boundedInt = (lo: number, hi: number) => {
  const msg = `expected a whole number from ${lo} to ${hi}`
  return z.number({error: typeMsg(`a whole number from ${lo} to ${hi}`)}).int({error: msg}).min(lo, {error: msg}).max(hi, {error: msg})
}

/** A record whose keys must match `re` (reported per key, with `keyMsg`). */
function checkedRecord<V extends z.ZodType>(re: RegExp, keyMsg: string, value: V, what: string) {
  return z
    .record(z.string(), value, {error: typeMsg(what)})
    .superRefine((rec, ctx) => {
      for (const key of Object.keys(rec)) if (!re.test(key)) ctx.addIssue({code: 'custom', path: [key], message: keyMsg, input: key})
    })
}

const FIELDS = ['name', 'app', 'mainClass', 'args', 'conf', 'jars', 'pyFiles', 'files', 'env', 'driver', 'executor', 'priority', 'retries', 'volumes'] as const

/** A Kubernetes object name part (DNS-1123 label): volume and claim names. */
const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const absolutePath = str('an absolute path')
  .regex(/^\/[^\0\s,:]*$/, {error: 'must be an absolute path (no spaces, commas or colons)'})
  .refine((p) => !p.split('/').includes('..'), {error: 'must not contain ..'})

/**
 * A volume mounted in the driver and every executor at `mount`: a path of the host the pod or process runs on
 * (`hostPath`), a PersistentVolumeClaim of the job's namespace (`pvc`), or a fresh empty folder (`emptyDir: true`).
 */
const volumeSchema = z
  .strictObject(
    {
      name: str().regex(DNS_LABEL_RE, {error: 'must be 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit'}),
      mount: absolutePath,
      hostPath: absolutePath.optional(),
      pvc: str('a claim name').regex(DNS_LABEL_RE, {error: 'must be a claim name: 1-63 lowercase letters, digits or "-"'}).optional(),
      emptyDir: z.literal(true, {error: 'expected true'}).optional(),
      readOnly: z.boolean({error: typeMsg('true or false')}).default(false),
    },
    {error: typeMsg('a mapping with name, mount and one of hostPath, pvc or emptyDir')},
  )
  .superRefine((v, ctx) => {
    const kinds = (['hostPath', 'pvc', 'emptyDir'] as const).filter((k) => v[k] !== undefined)
    if (kinds.length !== 1) ctx.addIssue({code: 'custom', path: [], message: `needs exactly one of hostPath, pvc or emptyDir${kinds.length > 1 ? ` (got ${kinds.join(' and ')})` : ''}`})
  })

const baseSchema = z.strictObject(
  {
    name: str().regex(JOB_NAME_RE, {error: 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit'}).optional(),
    app: str('a path or URL of a .jar or .py')
      .min(1, {error: 'must not be empty'})
      .refine((s) => !isUrl(s) || isHttpUrl(s), {error: 'must be a local path or an http(s) URL'})
      .refine((s) => appExtension(s) !== undefined, {error: 'must be a .jar or .py file'}),
    mainClass: str('a Java class name').regex(JAVA_CLASS_RE, {error: 'must be a Java class name like com.example.Main (use $ for a nested class)'}).optional(),
    args: z.array(z.union([z.string(), z.number()], {error: typeMsg('a string')}).transform((v) => String(v)), {error: typeMsg('a list of strings')}).default([]),
    conf: checkedRecord(SPARK_PROPERTY_RE, 'keys must be Spark properties like spark.executor.memory', scalarString('a string, number or boolean'), 'a mapping of Spark properties').default({}),
    jars: z.array(location, {error: typeMsg('a list of paths or URLs')}).default([]),
    pyFiles: z.array(location, {error: typeMsg('a list of paths or URLs')}).default([]),
    files: z.array(location, {error: typeMsg('a list of paths or URLs')}).default([]),
    env: checkedRecord(ENV_NAME_RE, 'keys must be environment variable names like MY_VAR', scalarString('a string'), 'a mapping of environment variables').default({}),
    driver: driverSchema.default({}),
    executor: executorSchema.default({}),
    priority: boundedInt(0, 1000).default(0),
    retries: boundedInt(0, 10).default(0),
    volumes: z.array(volumeSchema, {error: typeMsg('a list of volumes')}).default([]),
  },
  {error: (iss) => (iss.input === undefined || iss.input === null ? 'the job spec is empty' : `expected a mapping of job fields, got ${describe(iss.input)}`)},
)

/** Checks between fields; written defensively because it also runs when single fields already failed. */
function crossCheck(v: unknown, ctx: z.RefinementCtx): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return
  const spec = v as Record<string, unknown>
  const app = typeof spec.app === 'string' ? spec.app : undefined
  const ext = app ? appExtension(app) : undefined
  if (ext === '.jar' && spec.mainClass === undefined) ctx.addIssue({code: 'custom', path: ['mainClass'], message: 'required for a .jar app'})
  if (ext === '.py' && spec.mainClass !== undefined) ctx.addIssue({code: 'custom', path: ['mainClass'], message: 'only for a .jar app (a .py app has no main class)'})
  if (ext === '.jar' && Array.isArray(spec.pyFiles) && spec.pyFiles.length > 0) ctx.addIssue({code: 'custom', path: ['pyFiles'], message: 'only for a .py app'})
  if (Array.isArray(spec.volumes)) {
    const seen = {name: new Set<unknown>(), mount: new Set<unknown>()}
    for (const [i, vol] of (spec.volumes as Array<Record<string, unknown>>).entries()) {
      for (const key of ['name', 'mount'] as const) {
        if (vol?.[key] !== undefined && seen[key].has(vol[key])) ctx.addIssue({code: 'custom', path: ['volumes', i, key], message: `${String(vol[key])} is used by an earlier volume`})
        seen[key].add(vol?.[key])
      }
    }
  }
  if (spec.conf && typeof spec.conf === 'object') {
    for (const key of Object.keys(spec.conf)) {
      const why = RESERVED_CONF[key]
      if (why) ctx.addIssue({code: 'custom', path: ['conf', key], message: why})
    }
  }
}

export const jobSpecSchema = baseSchema
  .superRefine((v, ctx) => crossCheck(v, ctx), {when: () => true})
  .transform((v) => ({...v, name: v.name ?? defaultJobName(v.app)}))

/** What a job spec file may contain (before defaults). */
export type JobSpecInput = z.input<typeof jobSpecSchema>
/** A validated job spec with every default applied (name filled in, lists and maps present). */
export type JobSpec = z.output<typeof jobSpecSchema>

/** 'jvm' for a .jar app (needs mainClass), 'python' for a .py app. */
export function appKind(spec: Pick<JobSpec, 'app'>): 'jvm' | 'python' {
  return appExtension(spec.app) === '.py' ? 'python' : 'jvm'
}

// ---- one-line error messages --------------------------------------------------------------------------------------

/** `conf."spark executor.memory"`, `args[2]`, `driver.memory`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else {
      const s = String(seg)
      const part = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s) ? s : JSON.stringify(s)
      out += out ? `.${part}` : part
    }
  }
  return out
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]!
}

const NESTED_FIELDS: Record<string, readonly string[]> = {driver: ['cores', 'memory'], executor: ['cores', 'memory', 'instances']}

/** Each issue as `path: reason` (unknown keys get a "did you mean" hint); `rename` maps field paths to CLI flags. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], rename: Record<string, string> = {}): string[] {
  const out: string[] = []
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const known = iss.path.length === 0 ? FIELDS : NESTED_FIELDS[String(iss.path[0])] ?? []
      for (const key of iss.keys) {
        const guess = closest(key, known)
        out.push(`${formatPath([...iss.path, key])}: unknown field${guess ? ` (did you mean ${guess}?)` : ` (known: ${known.join(', ')})`}`)
      }
      continue
    }
    const where = formatPath(iss.path)
    const label = rename[where] ?? where
    out.push(label ? `${label}: ${iss.message}` : iss.message)
  }
  return [...new Set(out)]
}

/**
 * Validates `input` (an already parsed YAML/JSON value) and applies defaults. Paths are returned as written (see
 * load.ts for resolving them). Throws UsageError `SOURCE: field: reason; field: reason` on one line.
 */
export function parseJobSpec(input: unknown, source: string, rename?: Record<string, string>): JobSpec {
  const result = jobSpecSchema.safeParse(input)
  if (result.success) return result.data
  throw new UsageError(`${source}: ${formatIssues(result.error.issues, rename).join('; ')}`)
}
