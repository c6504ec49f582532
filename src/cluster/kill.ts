import {deleteAccess} from '../config/access.js'
import {hostContext} from '../engines/host-context.js'
import {runPerHost} from '../output/progress.js'
import type {KillReport} from '../output/results.js'
import {openCluster, type RunOptions} from './context.js'
import {validateClusterName} from './names.js'

/**
 * Leaves nothing behind: hosts the provider made are destroyed with its networks and keys; on ssh hosts every process cms started
 * is stopped and every file it installed is deleted. Works on half-made clusters; rerun it if a host was down.
 */
export async function killCluster(req: {name: string}, run: RunOptions): Promise<KillReport> {
  const started = Date.now()
  validateClusterName(req.name)
  const handle = await openCluster(req.name, run)
  try {
    const hosts = await handle.provider.observe(req.name).catch((error: Error) => {
      if (handle.provider.ownsHosts) throw error
      throw new Error(`cannot read the cluster's hosts from its head: ${error.message}`)
    })
    if (handle.provider.ownsHosts) {
      // The provider's hosts go away with everything on them: nothing to clean on them first.
      const removed = await handle.provider.destroy(req.name, hosts)
      deleteAccess(req.name)
      const seconds = (Date.now() - started) / 1000
      const detail = handle.provider.releasedDetail ?? 'host given back'
      return {
        name: req.name,
        provider: handle.provider.name,
        hosts: hosts.map((h) => ({host: h.id, ok: true, seconds, detail})),
        seconds,
        ...(removed && removed.length > 0 ? {removed: removed.filter((r) => !r.startsWith('instance '))} : {}),
      }
    }
    const results = await runPerHost(
      hosts.map((h) => ({key: h.id, label: `${h.id} (${h.role})`, item: h})),
      run.parallel,
      async (host, report) => {
        report.update('connecting')
        const ctx = await hostContext(await handle.pool.get(host.target), host)
        report.update(`stopping ${handle.engine.name} and removing cms files`)
        const left = await handle.engine.cleanup(ctx, req.name)
        if (left > 0) throw new Error(`${left} processes of the cluster still run after cleanup`)
        return 'cleaned'
      },
      {quiet: run.quiet, doneText: () => 'stopped, files removed'},
    )
    if (results.every((r) => r.ok)) {
      await handle.provider.destroy(req.name)
      deleteAccess(req.name)
    }
    return {
      name: req.name,
      provider: handle.provider.name,
      hosts: results.map((r) => ({host: r.host, ok: r.ok, seconds: r.ms / 1000, detail: r.ok ? 'stopped, files removed' : undefined, error: r.error?.message})),
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    handle.pool.closeAll()
  }
}
