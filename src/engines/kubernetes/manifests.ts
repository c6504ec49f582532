/**
 * Kubernetes manifests read locally, before any cluster contact: multi-document YAML (as kubectl reads it) or JSON,
 * each document one object (or a `kind: List` of them) with apiVersion, kind and metadata.name. Pure; no client.
 */
import {parseAllDocuments, type Document, type Tags} from 'yaml'
import {UsageError} from '../../remote/errors.js'

/** A Kubernetes object as JSON: only the header is typed, the rest is passed to the API untouched. */
export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown}
  [k: string]: unknown
}

/** One object of a manifest file and where it came from (for error lines). */
export interface ManifestObject {
  /** "document 2" or "document 2, item 3" (a List's items). */
  where: string
  object: KubeObject
}

/** Server-side apply's field manager for everything cms applies (rerun finds cms's fields by it). */
export const FIELD_MANAGER = 'cms'

/** The label cms puts on every object it applies, so `cms job list` finds its Jobs and bare Pods. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY_VALUE = 'cms'

/** Kinds cms follows as jobs: a Job runs to completion through its pods, a bare Pod runs once. */
export function isWorkload(o: {apiVersion: string; kind: string}): boolean {
  return (o.kind === 'Job' && o.apiVersion === 'batch/v1') || (o.kind === 'Pod' && o.apiVersion === 'v1')
}

/** "Job default/hello" or "Namespace team-a": how error lines and logs name an object. */
export function describeObject(o: {kind: string; metadata: {name: string; namespace?: string}}): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

// kubectl reads YAML 1.1 (sigs.k8s.io/yaml over go-yaml v2): `0644` is octal, `yes`/`on` are booleans. Timestamps
// and base-60 numbers stay strings there, as they do here.
const YAML_OPTIONS = {
  version: '1.1' as const,
  customTags: (tags: Tags): Tags => tags.filter((t) => typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME')),
}

function firstLine(message: string): string {
  return (message.split('\n').find((l) => l.trim().length > 0) ?? message).trim().replace(/:$/, '')
}

/** Checks one document's object header; returns the object or throws a one-line UsageError. */
export function checkObject(value: unknown, file: string, where: string): KubeObject {
  const fail = (why: string) => new UsageError(`${file}: ${where}: ${why}`)
  if (!isMapping(value)) throw fail('expected a Kubernetes object (a mapping with apiVersion, kind and metadata.name)')
  const {apiVersion, kind, metadata} = value
  if (typeof apiVersion !== 'string' || apiVersion.trim() === '') throw fail('no apiVersion')
  if (typeof kind !== 'string' || kind.trim() === '') throw fail('no kind')
  if (!isMapping(metadata)) throw fail(`${kind} has no metadata.name`)
  const {name, namespace, generateName, labels, annotations} = metadata
  if (name === undefined || name === null || name === '') {
    if (generateName !== undefined) throw fail(`${kind} has metadata.generateName, which server-side apply cannot use: give it a metadata.name`)
    throw fail(`${kind} has no metadata.name`)
  }
  if (typeof name !== 'string') throw fail(`${kind} metadata.name must be a string`)
  if (namespace !== undefined && namespace !== null && typeof namespace !== 'string') throw fail(`${kind} ${name}: metadata.namespace must be a string`)
  for (const [field, map] of [['labels', labels], ['annotations', annotations]] as const) {
    if (map !== undefined && map !== null && !isMapping(map)) throw fail(`${kind} ${name}: metadata.${field} must be a mapping`)
  }
  return value as KubeObject
}

function objectsOf(value: unknown, file: string, where: string): ManifestObject[] {
  // `kubectl get -o yaml` writes a List; kubectl apply takes it, so cms does too.
  if (isMapping(value) && value.kind === 'List' && Array.isArray(value.items)) {
    return value.items.map((item, i) => ({where: `${where}, item ${i + 1}`, object: checkObject(item, file, `${where}, item ${i + 1}`)}))
  }
  return [{where, object: checkObject(value, file, where)}]
}

/** Parses a manifest's text (YAML, or JSON when `json`); empty documents are skipped. Throws UsageError. */
export function parseManifest(text: string, file: string, opts: {json?: boolean} = {}): ManifestObject[] {
  if (opts.json) {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new UsageError(`${file}: invalid JSON: ${firstLine((error as Error).message)}`)
    }
    return objectsOf(value, file, 'document 1')
  }
  // An empty stream parses to an empty list.
  const docs: Document[] = parseAllDocuments(text, YAML_OPTIONS)
  const objects: ManifestObject[] = []
  docs.forEach((doc, i) => {
    const where = `document ${i + 1}`
    const error = doc.errors[0]
    if (error) throw new UsageError(`${file}: ${where}: invalid YAML: ${firstLine(error.message)}`)
    const value: unknown = doc.toJS({maxAliasCount: 100})
    if (value === null || value === undefined) return
    objects.push(...objectsOf(value, file, where))
  })
  return objects
}

/** Whether a parsed YAML/JSON value looks like a Kubernetes object rather than a cms job spec. */
export function looksLikeManifest(value: unknown): boolean {
  return isMapping(value) && ('apiVersion' in value || 'kind' in value)
}

/** Whether a manifest's text (first non-empty document) holds Kubernetes objects; false when it cannot be parsed. */
export function isManifestText(text: string, opts: {json?: boolean} = {}): boolean {
  try {
    if (opts.json) return looksLikeManifest(JSON.parse(text))
    const docs: Document[] = parseAllDocuments(text, YAML_OPTIONS)
    const first = docs.map((d) => (d.errors.length > 0 ? undefined : (d.toJS({maxAliasCount: 100}) as unknown))).find((v) => v !== null && v !== undefined)
    return looksLikeManifest(first)
  } catch {
    return false
  }
}

/**
 * The object cms applies: the manifest's own, with cms's managed-by label added (list finds its Jobs and bare Pods
 * by it) and, for a namespaced kind, the namespace made explicit (`default` unless the object names one).
 */
export function withCmsDefaults(object: KubeObject, namespaced: boolean): KubeObject {
  const metadata = {...object.metadata, labels: {...(object.metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE}}
  if (namespaced) metadata.namespace = object.metadata.namespace || 'default'
  else delete metadata.namespace
  return {...object, metadata}
}
