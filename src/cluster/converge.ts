import {writeAccess} from '../config/access.js'
import type {EnginePlan} from '../engines/engine.js'
import {hostContext} from '../engines/host-context.js'
import {Shipment} from '../engines/shipping.js'
import {runPerHost} from '../output/progress.js'
import type {ConvergeReport, HostReport} from '../output/results.js'
import type {Host} from '../providers/provider.js'
import {hostFacts} from '../remote/host-facts.js'
import type {ClusterHandle, RunOptions} from './context.js'
import {describeCluster, describeWithoutHead} from './describe.js'
import {manifestHosts, readManifest, writeManifest} from './manifest.js'

/**
 * Brings every host to the desired state through the cluster's engine: its archives shipped (once to the head,
 * fetched from there by the others), configured, started, joined. Hosts already there only get checked, so create
 * and add are safe to rerun.
 */
export async function convergeCluster(
  handle: ClusterHandle,
  hosts: Host[],
  opts: {plan: EnginePlan; identityFile?: string; run: RunOptions},
): Promise<ConvergeReport> {
  const started = Date.now()
  const ordered = [...hosts.filter((h) => h.role === 'head'), ...hosts.filter((h) => h.role !== 'head')]
  const head = ordered[0]
  if (!head || head.role !== 'head') throw new Error(`cluster ${handle.name} has no head host`)
  // Found again by `info` and `kill` even if what follows fails half-way.
  writeAccess({
    name: handle.name,
    provider: handle.provider.name,
    engine: handle.engine.name,
    head: {host: head.target.host, port: head.target.port, user: head.target.user},
    identityFile: opts.identityFile,
    ...handle.provider.accessDetails?.(),
  })
  const writeHeadManifest = async (engineSettings: Record<string, string>) => {
    const session = await handle.pool.get(head.target)
    await writeManifest(session, (await hostFacts(session)).home, {
      cluster: handle.name,
      provider: handle.provider.name,
      engine: handle.engine.name,
      updatedAt: new Date().toISOString(),
      hosts: manifestHosts(ordered),
      engineSettings,
    })
  }

  const shipment = new Shipment(opts.plan.artifacts, ordered.length > 1)
  const result = await handle.engine
    .converge({
      cluster: handle.name,
      hosts: ordered,
      plan: opts.plan,
      shipment,
      log: opts.run.log,
      connect: async (host) => {
        const session = await handle.pool.get(host.target)
        await handle.provider.hostReady?.(session, host)
        if (host === head) await writeHeadManifest({...opts.plan.settings, state: 'converging'})
        return hostContext(session, host)
      },
      perHost: (fn) =>
        runPerHost(
          ordered.map((h) => ({key: h.id, label: `${h.id} (${h.role})`, item: h})),
          opts.run.parallel,
          fn,
          {quiet: opts.run.quiet, doneText: (o) => `ready: ${o.detail}`},
        ),
    })
    .finally(() => shipment.finish())

  result.outcomes.forEach((o, i) => {
    if (o.value && !ordered[i].privateAddress) ordered[i] = {...ordered[i], privateAddress: o.value.address}
  })
  const headOk = result.outcomes[0]?.ok
  if (headOk) await writeHeadManifest({...opts.plan.settings, ...result.settings})
  const reports: HostReport[] = result.outcomes.map((o) => ({
    host: o.host,
    ok: o.ok,
    seconds: o.ms / 1000,
    detail: o.value?.detail,
    error: o.error?.message,
  }))
  const info = headOk
    ? await describeCluster(handle, await handle.provider.observe(handle.name).then((h) => (h.length > 0 ? h : ordered)))
    : await describeWithoutHead(handle, ordered, result.outcomes[0]?.error?.message ?? 'the head failed')
  const distributionBytes = shipment.totalBytes
  return {
    cluster: info,
    hosts: reports,
    transfer: {
      distributionBytes,
      uploadedBytes: shipment.uploadedBytes,
      uploadRatio: distributionBytes > 0 ? Number((shipment.uploadedBytes / distributionBytes).toFixed(3)) : 0,
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
