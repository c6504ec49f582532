import {UsageError} from '../../remote/errors.js'
import {KubeApi, KubeApiError, type ApiResource} from './api.js'
import {describeObject, FIELD_MANAGER, withCmsDefaults, type KubeObject, type ManifestObject} from './manifests.js'

/** An object ready to apply: cms's defaults added, its resource known from discovery. */
export interface ResolvedObject {
  file: string
  where: string
  object: KubeObject
  resource: ApiResource
}

/**
 * The API's message when an error is the API server refusing the object itself (validation, an unknown field, a
 * missing namespace, admission), rather than the server or the connection failing; undefined otherwise.
 */
export function refusalMessage(error: unknown): string | undefined {
  if (!(error instanceof KubeApiError)) return undefined
  // A field the schema does not have, or a value of the wrong type: server-side apply cannot build its typed object
  // and answers 500 with this prefix.
  const typed = /^failed to create typed patch object \([^)]*\): /.exec(error.apiMessage)
  if (typed) return error.apiMessage.slice(typed[0].length)
  if (error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429) return error.apiMessage
  return undefined
}

/** Finds each object's resource (a kind the API does not serve is a UsageError) and adds cms's defaults. */
export async function resolveObject(api: KubeApi, file: string, m: ManifestObject): Promise<ResolvedObject> {
  const {apiVersion, kind} = m.object
  const resource = await api.resource(apiVersion, kind)
  if (!resource) throw new UsageError(`${file}: ${m.where}: ${describeObject(m.object)}: the cluster's API has no kind ${kind} in ${apiVersion}`)
  return {file, where: m.where, object: withCmsDefaults(m.object, resource.namespaced), resource}
}

/** Server-side apply of one object (field manager cms, conflicts forced to cms); the object as the API stored it. */
export function applyObject(api: KubeApi, r: Pick<ResolvedObject, 'object' | 'resource'>, opts: {dryRun?: boolean} = {}): Promise<KubeObject> {
  const {object, resource} = r
  return api.request<KubeObject>('PATCH', KubeApi.path(object.apiVersion, resource, object.metadata.namespace, object.metadata.name), {
    query: {fieldManager: FIELD_MANAGER, force: true, fieldValidation: 'Strict', dryRun: opts.dryRun ? 'All' : undefined},
    body: object,
    contentType: 'application/apply-patch+yaml',
  })
}

/** The one line naming the file, the document and the object the API refused, with the API's own words. */
export function refusalLine(r: Pick<ResolvedObject, 'file' | 'where' | 'object'>, message: string): string {
  return `${r.file}: ${r.where}: ${describeObject(r.object)}: ${message.split('\n').join(' ')}`
}
