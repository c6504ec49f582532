import {readAccess} from '../config/access.js'
import {settingsFromRecord} from '../engines/spark/engine.js'
import {SPARK_HOST_PACKAGES} from '../engines/spark/layout.js'
import {checkSparkDistSource, distFromSettings, resolveSparkDist} from '../engines/spark/dist.js'
import type {ConvergeReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {resolveTarget} from '../remote/target.js'
import {openCluster, type RunOptions} from './context.js'
import {convergeCluster, readHeadManifest} from './converge.js'
import {validateClusterName, validateHostCount} from './names.js'
import {NotFoundError} from './not-found.js'

export interface AddRequest {
  name: string
  hostCount?: number
  hostSpecs: string[]
  identityFile?: string
  sparkDist?: string
}

/** Joins new hosts as workers; the cluster's existing hosts are only checked. */
export async function addHosts(req: AddRequest, run: RunOptions): Promise<ConvergeReport> {
  validateClusterName(req.name)
  if (req.hostCount !== undefined) validateHostCount(req.hostCount)
  const distSource = req.sparkDist === undefined ? undefined : checkSparkDistSource(req.sparkDist)
  const handle = await openCluster(req.name, run)
  try {
    // docker and aws make their own hosts (--hosts N); ssh takes the hosts the user names.
    const ownsHosts = handle.provider.ownsHosts
    if (ownsHosts && req.hostSpecs.length > 0) throw new UsageError(`the ${handle.provider.name} provider makes its own hosts: use --hosts N instead of host arguments`)
    if (!ownsHosts && req.hostCount !== undefined) throw new UsageError('--hosts N is for the docker and aws providers; name ssh hosts as user@host[:port] arguments')
    if (!ownsHosts && req.hostSpecs.length === 0) throw new UsageError('name the hosts to add as user@host[:port] arguments')
    const identityFile = req.identityFile ?? readAccess(req.name)?.identityFile
    for (const spec of req.hostSpecs) resolveTarget(spec, {identityFile})
    const existing = await handle.provider.observe(req.name)
    if (existing.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    // New hosts get the distribution the cluster already runs, from its head, unless --spark-dist says otherwise.
    const recordedSettings = (await readHeadManifest(handle, existing))?.engineSettings ?? {}
    const recorded = distFromSettings(recordedSettings)
    const dist = distSource ? await resolveSparkDist(distSource, run.log) : recorded ?? (await resolveSparkDist(checkSparkDistSource(undefined), run.log))
    const hosts = await handle.provider.provision(req.name, {
      engine: 'spark',
      existing,
      total: existing.length + (req.hostCount ?? (ownsHosts ? 1 : 0)),
      specs: req.hostSpecs,
      identityFile,
      packages: SPARK_HOST_PACKAGES,
    })
    return await convergeCluster(handle, hosts, {dist, settings: settingsFromRecord(recordedSettings), identityFile, run})
  } finally {
    handle.pool.closeAll()
  }
}
