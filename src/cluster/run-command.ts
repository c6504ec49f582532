import type {HostCommandResult, RunReport} from '../output/results.js'
import type {Host} from '../providers/provider.js'
import {UsageError} from '../remote/errors.js'
import {mapLimit} from '../remote/fanout.js'
import {openClusterHosts, unreachableReason} from './cluster-hosts.js'
import type {RunOptions} from './context.js'
import {selectHosts} from './host-select.js'

export interface RunRequest {
  name: string
  /** --hosts: roles or hosts; none: every host. */
  selectors: string[]
  /** The command's words, joined with spaces for the hosts' shells (as ssh does). */
  command: string[]
  timeoutMs?: number
  /** Each host's result as soon as it is in. */
  onHost?: (result: HostCommandResult) => void
}

/** The words of a remote command as ssh sends them: joined with spaces, for the remote shell to split again. */
export function remoteCommand(words: string[]): string {
  const command = words.join(' ')
  if (command.trim() === '') throw new UsageError('no command to run: put it after -- (e.g. cms cluster run -n NAME -- uptime)')
  if (command.includes('\0')) throw new UsageError('a command cannot contain a NUL byte')
  return command
}

/** Runs one command on the chosen hosts at once, each over cms's own SSH connection, and gathers what each said. */
export async function runOnHosts(req: RunRequest, run: RunOptions): Promise<RunReport> {
  const started = Date.now()
  const command = remoteCommand(req.command)
  const {handle, hosts} = await openClusterHosts(req.name, run)
  try {
    const targets = selectHosts(hosts, req.selectors)
    const results = await mapLimit(targets, run.parallel, async (target) => {
      const result = await runOn(target, async (host) => (await handle.pool.get(host.target)).exec(command, {label: 'command', timeoutMs: req.timeoutMs}))
      req.onHost?.(result)
      return result
    })
    return {cluster: req.name, command, hosts: results, seconds: (Date.now() - started) / 1000}
  } finally {
    handle.pool.closeAll()
  }
}

type Exec = (host: Host) => Promise<{code: number | null; stdout: string; stderr: string; signal?: string; timedOut?: boolean}>

/** One host's result; never rejects (a host that cannot be reached is a result with an error). */
async function runOn(host: Host, exec: Exec): Promise<HostCommandResult> {
  const started = Date.now()
  const base = {host: host.id, role: host.role}
  const seconds = () => (Date.now() - started) / 1000
  const why = unreachableReason(host)
  if (why) return {...base, exitCode: null, stdout: '', stderr: '', error: why, seconds: 0}
  try {
    const r = await exec(host)
    const error = r.timedOut ? 'timed out' : r.code === null ? (r.signal ? `killed by SIG${r.signal}` : 'the connection ended before the command did') : undefined
    return {...base, exitCode: r.code, stdout: r.stdout, stderr: r.stderr, ...(error ? {error} : {}), seconds: seconds()}
  } catch (error) {
    return {...base, exitCode: null, stdout: '', stderr: '', error: (error as Error).message, seconds: seconds()}
  }
}
