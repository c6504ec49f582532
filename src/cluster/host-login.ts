import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openSshArgs, runOpenSsh} from '../remote/openssh.js'
import {openClusterHosts, unreachableReason} from './cluster-hosts.js'
import type {RunOptions} from './context.js'
import {findHost} from './host-select.js'

export interface LoginRequest {
  name: string
  /** A host as `cms cluster info` names it, or its address; the head when absent. */
  host?: string
  /** The remote command's words; none: a login shell. */
  command: string[]
  /** Ask for a terminal (an interactive login from one). */
  tty: boolean
}

/**
 * Logs in to one host of the cluster with the system `ssh`, the cluster's key and the host keys cms verified (a
 * private known_hosts file written for this login and removed after it), strict host key checking. Resolves with
 * ssh's exit status: the remote command's, or 255 when ssh failed.
 */
export async function loginToHost(req: LoginRequest, run: RunOptions): Promise<number> {
  const {handle, hosts, head} = await openClusterHosts(req.name, run)
  let dir: string | undefined
  try {
    const host = req.host === undefined ? head : findHost(hosts, req.host)
    const why = unreachableReason(host)
    if (why) throw new Error(why)
    const {host: address, port} = host.target
    const verified = () => handle.knownHosts.linesFor(address, port).filter((l) => !l.startsWith('@revoked'))
    // A host cms has not reached from this machine yet: its own connection checks the key first (as the provider's hosts expect).
    if (verified().length === 0) await handle.pool.get(host.target)
    if (verified().length === 0) throw new Error(`no verified host key for ${host.id} (${address}:${port})`)
    const lines = handle.knownHosts.linesFor(address, port)
    handle.pool.closeAll()
    dir = mkdtempSync(join(tmpdir(), 'cms-ssh-'))
    const knownHostsFile = join(dir, 'known_hosts')
    writeFileSync(knownHostsFile, `${lines.join('\n')}\n`, {mode: 0o600})
    return await runOpenSsh(openSshArgs({target: host.target, knownHostsFile, identitiesOnly: handle.provider.ownsHosts, command: req.command, tty: req.tty}))
  } finally {
    handle.pool.closeAll()
    if (dir) rmSync(dir, {recursive: true, force: true})
  }
}
