import {hostContext} from '../engines/host-context.js'
import {runPerHost} from '../output/progress.js'
import type {HostReport, RemoveReport} from '../output/results.js'
import type {Host} from '../providers/provider.js'
import {UsageError} from '../remote/errors.js'
import {openCluster, type RunOptions} from './context.js'
import {describeCluster} from './describe.js'
import {findHost} from './host-select.js'
import {manifestHosts, readManifest, writeManifest} from './manifest.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

/** The hosts to remove, as the user named them (see findHost); never the head. */
export function matchHosts(hosts: Host[], wanted: string[]): Host[] {
  if (wanted.length === 0) throw new UsageError('name the hosts to remove (see HOST in `cms cluster info`)')
  return wanted.map((w) => {
    const found = findHost(hosts, w)
    if (found.role === 'head') throw new UsageError(`cannot remove the head ${found.id}: it runs the cluster's control plane ('cms cluster kill' removes the whole cluster)`)
    return found
  })
}

/**
 * Drains the hosts through the engine (work moves elsewhere first), stops what runs there, removes cms's files
 * (ssh) or the hosts themselves (containers, instances).
 */
export async function removeHosts(req: {name: string; hosts: string[]; graceSeconds: number}, run: RunOptions): Promise<RemoveReport> {
  const started = Date.now()
  validateClusterName(req.name)
  const handle = await openCluster(req.name, run)
  try {
    const hosts = await handle.provider.observe(req.name)
    if (hosts.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    const targets = matchHosts(hosts, req.hosts)
    const engine = handle.engine
    const head = hosts.find((h) => h.role === 'head')!
    const headSession = await handle.pool.get(head.target)
    const headCtx = await hostContext(headSession, head)
    const home = headCtx.facts.home
    const manifest = await readManifest(headSession, home, req.name)
    for (const target of targets) engine.checkRemovable?.(target, hosts, manifest?.engineSettings ?? {}, targets)
    // Hosts the provider made (docker containers, aws instances) are given back after the engine drained them.
    const ownsHosts = handle.provider.ownsHosts

    const results = await runPerHost(
      targets.map((h) => ({key: h.id, label: `${h.id} (${h.role})`, item: h})),
      run.parallel,
      async (host, report) => {
        if (host.state === 'stopped') {
          report.update('host is stopped; skipping decommission')
          return 'stopped'
        }
        report.update('connecting')
        const ctx = await hostContext(await handle.pool.get(host.target), host)
        const drained = await engine.drain({cluster: req.name, ctx, head: headCtx, graceSeconds: req.graceSeconds, report})
        if (!ownsHosts) {
          report.update('removing cms files')
          const left = await engine.cleanup(ctx, req.name)
          if (left > 0) throw new Error(`${left} processes of the cluster still run after cleanup`)
        }
        return drained
      },
      {quiet: run.quiet, doneText: (v) => v},
    )
    const removable = targets.filter((_, i) => results[i].ok || ownsHosts)
    if (ownsHosts) await handle.provider.release(req.name, removable)
    const remaining = hosts.filter((h) => !removable.includes(h))
    if (manifest) await writeManifest(headSession, home, {...manifest, updatedAt: new Date().toISOString(), hosts: manifestHosts(remaining)})
    const released = handle.provider.releasedDetail ?? 'host given back'
    const removed: HostReport[] = results.map((r) => ({
      host: r.host,
      ok: r.ok || ownsHosts,
      seconds: r.ms / 1000,
      detail: r.ok ? `${r.value}${ownsHosts ? `, ${released}` : ', files removed'}` : ownsHosts ? `${released} (drain failed: ${r.error?.message})` : undefined,
      error: r.ok || ownsHosts ? undefined : r.error?.message,
    }))
    const cluster = await describeCluster(handle, ownsHosts ? undefined : remaining)
    return {cluster, removed, seconds: (Date.now() - started) / 1000}
  } finally {
    handle.pool.closeAll()
  }
}
