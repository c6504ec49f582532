import {deleteAccess} from '../config/access.js'
import {readAttached, writeAttached, type AttachedEntry} from '../config/attached.js'
import type {AttachOptions, JobService} from '../engines/engine.js'
import {loadEngine} from '../engines/registry.js'
import type {ClusterInfo} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {findCluster, type RunOptions} from './context.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

export interface AttachReport {
  name: string
  engine: AttachedEntry['engine']
  /** What the engine's API answered (its address and size). */
  detail: string
}

/**
 * Registers a cluster cms did not make: checks the options, asks its API once, then writes its access file. Nothing
 * is written when any of that fails.
 */
export async function attachCluster(req: {name: string} & Omit<AttachOptions, 'env'>, env: AttachOptions['env']): Promise<AttachReport> {
  validateClusterName(req.name)
  const engineName: AttachedEntry['engine'] = req.nomadAddr !== undefined ? 'nomad' : 'kubernetes'
  const attached = await (await loadEngine(engineName)).attached?.()
  if (!attached) throw new UsageError(`cms cannot attach ${engineName} clusters`)
  const part = attached.access({...req, env})
  if (readAttached(req.name)) throw new UsageError(`cluster ${req.name} is already attached: 'cms cluster detach -n ${req.name}' first`)
  const made = await findCluster(req.name, {remote: false})
  if (made.provider) throw new UsageError(`cluster ${req.name} already exists (cms made it on ${made.provider}): choose another name`)
  const entry: AttachedEntry = {name: req.name, provider: 'attached', engine: engineName, [engineName]: part}
  const detail = await attached.check(entry)
  writeAttached(entry)
  return {name: req.name, engine: engineName, detail}
}

/** Forgets an attached cluster (its access file); the cluster itself is not touched. */
export async function detachCluster(name: string): Promise<{name: string; detached: true}> {
  validateClusterName(name)
  if (!readAttached(name)) {
    const made = await findCluster(name, {remote: false})
    if (made.provider) throw new UsageError(`cluster ${name} was made by cms, not attached: 'cms cluster kill -n ${name}' removes it`)
    throw new NotFoundError(`cluster ${JSON.stringify(name)} is not attached (see 'cms cluster list')`)
  }
  deleteAccess(name)
  return {name, detached: true}
}

async function attachedEngine(entry: AttachedEntry) {
  const attached = await (await loadEngine(entry.engine)).attached?.()
  if (!attached) throw new Error(`cms cannot reach attached ${entry.engine} clusters`)
  return attached
}

export async function describeAttached(entry: AttachedEntry): Promise<ClusterInfo> {
  return (await attachedEngine(entry)).describe(entry)
}

export async function openAttachedJobs(entry: AttachedEntry, run: Pick<RunOptions, 'parallel' | 'log'>): Promise<JobService> {
  return (await attachedEngine(entry)).openJobs(entry, run)
}
