/**
 * What cms applies again on `rerun`: the object as cms applied it, recovered from the live object. Pure.
 *
 * Server-side apply records, in metadata.managedFields, exactly which fields each manager set (fieldsV1). Keeping only
 * the fields of cms's own Apply entry gives back the user's manifest (plus cms's label) without anything the API
 * server, admission or controllers added (status, uid, spec.selector, controller-uid labels, a bare Pod's nodeName,
 * the service-account token volume, defaulted fields). Objects with no such entry are cleaned field by field instead.
 */
import {FIELD_MANAGER, type KubeObject} from './manifests.js'

type Json = null | boolean | number | string | Json[] | {[k: string]: Json}
type Fields = {[k: string]: Fields}

interface ManagedFieldsEntry {
  manager?: string
  operation?: string
  subresource?: string
  fieldsType?: string
  fieldsV1?: Fields
}

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v)

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]))
  }
  return false
}

/** The part of `value` that `fields` (a fieldsV1 set) names. */
export function extractFields(value: unknown, fields: Fields): unknown {
  const keys = Object.keys(fields).filter((k) => k !== '.')
  // A leaf: the manager owns the whole value (a scalar, an atomic list or map, or an empty one it set).
  if (keys.length === 0) return structuredClone(value)
  return extractJson(value as Json, fields, keys)
}

function extractJson(value: Json, fields: Fields, keys: string[]): Json {
  if (Array.isArray(value)) {
    const out: Json[] = []
    value.forEach((item, index) => {
      for (const key of keys) {
        const sub = fields[key]!
        if (key.startsWith('k:')) {
          const wanted = JSON.parse(key.slice(2)) as Record<string, Json>
          if (isObject(item) && Object.entries(wanted).every(([k, v]) => deepEqual(item[k], v))) {
            out.push(extractFields(item, sub) as Json)
            return
          }
        } else if (key.startsWith('v:')) {
          if (deepEqual(item, JSON.parse(key.slice(2)))) {
            out.push(structuredClone(item))
            return
          }
        } else if (key === `i:${index}`) {
          out.push(extractFields(item, sub) as Json)
          return
        }
      }
    })
    return out
  }
  if (isObject(value)) {
    const out: Record<string, Json> = {}
    for (const key of keys) {
      if (!key.startsWith('f:')) continue
      const name = key.slice(2)
      if (name in value) out[name] = extractFields(value[name]!, fields[key]!) as Json
    }
    return out
  }
  return structuredClone(value)
}

const SERVER_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'ownerReferences']
const CONTROLLER_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name']

/**
 * The live object without what the server and its controllers added: status, server-set metadata, a Job's generated
 * selector and the labels it put on its pod template, a bare Pod's node binding. Defaulted fields stay (harmless).
 */
export function cleanForReapply(live: KubeObject): KubeObject {
  const o = structuredClone(live) as KubeObject & {status?: unknown; spec?: Record<string, Json>}
  delete o.status
  for (const k of SERVER_METADATA) delete o.metadata[k]
  if (o.metadata.finalizers) {
    const kept = (o.metadata.finalizers as string[]).filter((f) => f !== 'foregroundDeletion' && f !== 'orphan')
    if (kept.length > 0) o.metadata.finalizers = kept
    else delete o.metadata.finalizers
  }
  if (o.kind === 'Job' && o.spec) {
    if (o.spec.manualSelector !== true) delete o.spec.selector
    const template = o.spec.template
    if (isObject(template) && isObject(template.metadata) && isObject(template.metadata.labels)) {
      for (const l of CONTROLLER_LABELS) delete template.metadata.labels[l]
    }
  }
  if (o.kind === 'Pod' && o.spec) delete o.spec.nodeName
  return o
}

/** The object cms applied, recovered from the live one (see the file's comment); identity fields from the live object. */
export function appliedObject(live: KubeObject): KubeObject {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[]
  const mine = entries.find((e) => e.manager === FIELD_MANAGER && e.operation === 'Apply' && !e.subresource && e.fieldsType === 'FieldsV1' && e.fieldsV1)
  if (!mine) return cleanForReapply(live)
  const {apiVersion, kind, metadata} = live
  const body = extractFields(live, mine.fieldsV1!) as Record<string, Json>
  const meta = isObject(body.metadata) ? body.metadata : {}
  return {...body, apiVersion, kind, metadata: {...meta, name: metadata.name, ...(metadata.namespace ? {namespace: metadata.namespace} : {})}} as KubeObject
}
