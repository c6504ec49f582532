import {writeAccess} from '../config/access.js'
import {SparkEngine, settingsToRecord, type SparkSettings} from '../engines/spark/engine.js'
import {distSettings, type SparkDist} from '../engines/spark/dist.js'
import {runPerHost} from '../output/progress.js'
import type {ConvergeReport, HostReport} from '../output/results.js'
import type {Host} from '../providers/provider.js'
import {hostFacts} from '../remote/host-facts.js'
import type {ClusterHandle, RunOptions} from './context.js'
import {clusterInfo, describeCluster} from './describe.js'
import {manifestHosts, readManifest, writeManifest} from './manifest.js'

/**
 * Brings every host to the desired state: Spark installed, configured, master on the head, a worker everywhere,
 * registered with the master. Hosts already there only get checked, so create and add are safe to rerun.
 */
export async function convergeCluster(
  handle: ClusterHandle,
  hosts: Host[],
  opts: {dist: SparkDist; settings: SparkSettings; identityFile?: string; run: RunOptions},
): Promise<ConvergeReport> {
  const started = Date.now()
  const ordered = [...hosts.filter((h) => h.role === 'head'), ...hosts.filter((h) => h.role !== 'head')]
  const head = ordered[0]
  if (!head || head.role !== 'head') throw new Error(`cluster ${handle.name} has no head host`)
  // Found again by `info` and `kill` even if what follows fails half-way.
  writeAccess({
    name: handle.name,
    provider: handle.provider.name,
    head: {host: head.target.host, port: head.target.port, user: head.target.user},
    identityFile: opts.identityFile,
    ...handle.provider.accessDetails?.(),
  })
  const writeHeadManifest = async (engineSettings: Record<string, string>) => {
    const session = await handle.pool.get(head.target)
    await writeManifest(session, (await hostFacts(session)).home, {
      cluster: handle.name,
      provider: handle.provider.name,
      engine: 'spark',
      updatedAt: new Date().toISOString(),
      hosts: manifestHosts(ordered),
      engineSettings,
    })
  }

  const engine = new SparkEngine()
  const result = await engine.converge({
    cluster: handle.name,
    hosts: ordered,
    dist: opts.dist,
    settings: opts.settings,
    connect: async (host) => {
      const session = await handle.pool.get(host.target)
      await handle.provider.hostReady?.(session, host)
      if (host === head) await writeHeadManifest({...distSettings(opts.dist), ...settingsToRecord(opts.settings), state: 'converging'})
      return session
    },
    perHost: (fn) =>
      runPerHost(
        ordered.map((h) => ({key: h.id, label: `${h.id} (${h.role})`, item: h})),
        opts.run.parallel,
        fn,
        {quiet: opts.run.quiet, doneText: (o) => `ready: ${o.master ? `master ${o.master}, ` : ''}worker ${o.worker}, Spark ${o.distribution}`},
      ),
  })

  result.outcomes.forEach((o, i) => {
    if (o.value && !ordered[i].privateAddress) ordered[i] = {...ordered[i], privateAddress: o.value.address}
  })
  const headOk = result.outcomes[0]?.ok
  if (headOk) {
    await writeHeadManifest({
      ...distSettings(opts.dist),
      ...settingsToRecord(opts.settings),
      sparkHome: result.sparkHome ?? '',
      masterUrl: result.masterUrl ?? '',
    })
  }
  const reports: HostReport[] = result.outcomes.map((o) => ({
    host: o.host,
    ok: o.ok,
    seconds: o.ms / 1000,
    detail: o.value ? `master ${o.value.master ?? '-'}, worker ${o.value.worker}, Spark ${o.value.distribution}` : undefined,
    error: o.error?.message,
  }))
  const info = headOk
    ? await describeCluster(handle, await handle.provider.observe(handle.name).then((h) => (h.length > 0 ? h : ordered)))
    : clusterInfo(handle.name, handle.provider.name, ordered, undefined, undefined, result.outcomes[0]?.error?.message)
  return {
    cluster: info,
    hosts: reports,
    transfer: {
      distributionBytes: opts.dist.bytes,
      uploadedBytes: result.uploadedBytes,
      uploadRatio: Number((result.uploadedBytes / opts.dist.bytes).toFixed(3)),
    },
    seconds: (Date.now() - started) / 1000,
  }
}

/** The manifest cms keeps on the cluster's head, if the head answers. */
export async function readHeadManifest(handle: ClusterHandle, hosts: Host[]) {
  const head = hosts.find((h) => h.role === 'head')
  if (!head) return undefined
  const session = await handle.pool.get(head.target)
  return readManifest(session, (await hostFacts(session)).home, handle.name)
}
