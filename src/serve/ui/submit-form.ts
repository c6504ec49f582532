/**
 * The dashboard's submit form: its fields as a task for POST /task (validated there, with the API's rules), and
 * the API's one-line errors split back onto the form's fields.
 */

export interface SubmitFields {
  cluster?: string
  mode?: string
  name?: string
  /** An app URL, when no app file is uploaded. */
  appUrl?: string
  mainClass?: string
  /** One argument per line. */
  args?: string
  /** `key=value` per line. */
  conf?: string
  env?: string
  driverCores?: string
  driverMemory?: string
  executorInstances?: string
  executorCores?: string
  executorMemory?: string
  priority?: string
  retries?: string
  jobfileName?: string
  jobfileText?: string
}

/** Names of the uploaded files, by the form field they came in. */
export interface SubmitUploads {
  app?: string
  files: string[]
  jobfile?: {name: string; content: string}
}

/** A field's problem that the API would not name (it never sees the form's own shape). */
export class FormError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}

const lines = (s: string | undefined) => (s ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)

function pairs(field: string, text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of lines(text)) {
    const eq = line.indexOf('=')
    if (eq <= 0) throw new FormError(field, `expected KEY=VALUE on each line, got "${line}"`)
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim()
  }
  return out
}

/** A whole number from the form, or undefined when the box is empty; text that is not one is left for the API to refuse. */
function num(v: string | undefined): number | string | undefined {
  const t = (v ?? '').trim()
  if (t === '') return undefined
  return /^-?\d+$/.test(t) ? Number(t) : t
}

function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || (typeof o[k] === 'object' && o[k] !== null && !Array.isArray(o[k]) && Object.keys(o[k] as object).length === 0)) delete o[k]
  return o
}

/** The task the form describes, as POST /task takes it. */
export function taskFromForm(f: SubmitFields, uploads: SubmitUploads): Record<string, unknown> {
  const cluster = (f.cluster ?? '').trim()
  if (!cluster) throw new FormError('cluster', 'choose a cluster')
  const common = compact({cluster, priority: num(f.priority), retries: num(f.retries)})
  if (f.mode === 'jobfile') {
    const pasted = (f.jobfileText ?? '').trim()
    if (uploads.jobfile && pasted) throw new FormError('jobfileText', 'paste a jobfile or upload one, not both')
    const jobfile = uploads.jobfile ?? (pasted ? {name: (f.jobfileName ?? '').trim() || 'job.hcl', content: f.jobfileText!} : undefined)
    if (!jobfile) throw new FormError('jobfileText', 'paste a jobfile or upload one')
    return {...common, jobfile}
  }
  const url = (f.appUrl ?? '').trim()
  if (uploads.app && url) throw new FormError('appUrl', 'give an app URL or upload the app, not both')
  const app = uploads.app ?? url
  if (!app) throw new FormError('appUrl', 'upload the app (.jar or .py) or give its URL')
  const spec: Record<string, unknown> = compact({
    name: (f.name ?? '').trim() || undefined,
    app,
    mainClass: (f.mainClass ?? '').trim() || undefined,
    args: lines(f.args).length ? lines(f.args) : undefined,
    conf: pairs('conf', f.conf),
    env: pairs('env', f.env),
    files: uploads.files.length ? uploads.files : undefined,
    driver: compact({cores: num(f.driverCores), memory: (f.driverMemory ?? '').trim() || undefined}),
    executor: compact({instances: num(f.executorInstances), cores: num(f.executorCores), memory: (f.executorMemory ?? '').trim() || undefined}),
  })
  return {...common, spec}
}

/** The form field of each spec or task field an API error line can name. */
const FIELD_OF: Record<string, string> = {
  app: 'appUrl',
  name: 'name',
  mainClass: 'mainClass',
  args: 'args',
  conf: 'conf',
  env: 'env',
  files: 'files',
  jars: 'files',
  pyFiles: 'files',
  'driver.cores': 'driverCores',
  'driver.memory': 'driverMemory',
  'executor.instances': 'executorInstances',
  'executor.cores': 'executorCores',
  'executor.memory': 'executorMemory',
  priority: 'priority',
  retries: 'retries',
  cluster: 'cluster',
  jobfile: 'jobfileText',
}

/**
 * The API's error line ("spec: executor.memory: x; cluster: y") as messages per form field; what names no field
 * goes under `form`.
 */
export function errorsByField(message: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const part of message.split(/;\s+(?=[A-Za-z][\w.[\]]*: )/)) {
    const path = /^([\w.[\]]+):/.exec(part.replace(/^spec:\s+(?=[\w.[\]]+:)/, '').replace(/^spec\./, ''))?.[1] ?? ''
    const segments = path.split('.')
    const field = FIELD_OF[segments.slice(0, 2).join('.')] ?? FIELD_OF[segments[0]!] ?? 'form'
    ;(out[field] ??= []).push(part)
  }
  return out
}
