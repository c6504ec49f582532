import {parseAllDocuments} from 'yaml'
import {UsageError} from '../../remote/errors.js'
import {isUrl} from '../../jobs/spec.js'

/** File names a directory source reads as work; every other file is left alone (a spec's app, data). */
export const TASK_FILE_RE = /^[A-Za-z0-9_][A-Za-z0-9._+-]*\.(json|ya?ml|hcl|nomad)$/i

/**
 * What a file dropped into a watched folder asks for, as POST /task takes it: a Nomad jobfile (.hcl, .nomad), a
 * Kubernetes manifest (YAML or JSON with apiVersion and kind), a whole task (a mapping with spec, jobfile or the
 * classic jobType), or else a bare job spec. A task or spec that names no cluster goes to the source's `cluster`.
 */
export function taskOfFile(fileName: string, text: string, cluster: string | string[] | undefined): Record<string, unknown> {
  const withCluster = (task: Record<string, unknown>) => withSourceCluster(task, cluster, 'file')
  if (/\.(hcl|nomad)$/i.test(fileName)) return withCluster({jobfile: {name: fileName, content: text}})
  const docs = parseAllDocuments(text)
  const bad = docs.find((d) => d.errors.length > 0)
  if (bad) throw new UsageError(`not valid YAML or JSON: ${bad.errors[0]!.message.split('\n')[0]}`)
  const values = docs.map((d) => d.toJSON() as unknown).filter((v) => v !== null && v !== undefined)
  const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  if (values.length === 0) throw new UsageError('the file is empty')
  if (values.some((v) => isMapping(v) && 'apiVersion' in v && 'kind' in v)) return withCluster({jobfile: {name: fileName, content: text}})
  if (values.length > 1) throw new UsageError('holds several documents: a task, a job spec or Kubernetes manifests')
  const doc = values[0]
  if (!isMapping(doc)) throw new UsageError('expected a mapping: a task, a job spec or a Kubernetes manifest')
  return withCluster(asTask(doc))
}

/** A mapping that is a task (with spec, jobfile or the classic jobType) as it is; any other is a bare job spec. */
function asTask(doc: Record<string, unknown>): Record<string, unknown> {
  return 'spec' in doc || 'jobfile' in doc || 'jobType' in doc ? doc : {spec: doc}
}

/** A task that names no cluster goes to its source's `cluster` (the classic form has a default of its own). */
function withSourceCluster(task: Record<string, unknown>, cluster: string | string[] | undefined, holder: string): Record<string, unknown> {
  if (task.cluster !== undefined || task.jobType !== undefined) return task
  if (cluster === undefined) throw new UsageError(`cluster: the ${holder} names no cluster and the source has none (set cluster: in the source)`)
  return {...task, cluster}
}

/**
 * A task as JSON text, as a table row or a message holds it: a task as POST /task takes it (spec, jobfile or the
 * classic form) or a bare job spec; `holder` names what held it in errors ("row", "message").
 */
export function taskOfJson(text: string | null, cluster: string | string[] | undefined, holder: string): Record<string, unknown> {
  if (text === null || text.trim() === '') throw new UsageError(`task: the ${holder} holds no task`)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`task: invalid JSON: ${(error as Error).message}`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError('task: expected a JSON object (a task or a job spec)')
  return withSourceCluster(asTask(doc as Record<string, unknown>), cluster, holder)
}

/** The local files a task's spec names (by plain file name): they are read from the watched folder. */
export function localFilesOf(task: Record<string, unknown>): string[] {
  const spec = task.spec as Record<string, unknown> | undefined
  if (!spec || typeof spec !== 'object') return []
  const paths = [spec.app, ...[spec.jars, spec.pyFiles, spec.files].flatMap((l) => (Array.isArray(l) ? l : []))]
  return [...new Set(paths.filter((p): p is string => typeof p === 'string' && p !== '' && !isUrl(p)))]
}
