import {spawn} from 'node:child_process'
import {constants} from 'node:os'
import type {SshTarget} from './target.js'

export interface OpenSshLogin {
  target: SshTarget
  /** A known_hosts file holding exactly the host keys cms verified for this host. */
  knownHostsFile: string
  /** Offer only the target's identity files (a key cms made for the cluster), not every key of the agent. */
  identitiesOnly: boolean
  /** The remote command's words (joined by ssh with spaces, as `ssh HOST CMD...`); none for a login shell. */
  command: string[]
  /** Ask for a terminal (`-t`): an interactive login from a terminal. */
  tty: boolean
}

/**
 * The arguments of the system `ssh` for a login cms vouches for: its key, its verified host keys and nothing else
 * (no global known_hosts, no learning of new keys), strict host key checking whatever ~/.ssh/config says (options
 * on the command line win over the config file).
 */
export function openSshArgs(l: OpenSshLogin): string[] {
  const args = [
    ...l.target.identityFiles.flatMap((f) => ['-i', f]),
    ...(l.identitiesOnly ? ['-o', 'IdentitiesOnly=yes'] : []),
    '-o',
    // Quoted: ssh splits this option's value into several files at whitespace.
    `UserKnownHostsFile="${l.knownHostsFile}"`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'CheckHostIP=no',
    '-p',
    String(l.target.port),
    '-l',
    l.target.user,
    ...(l.tty ? ['-t'] : []),
    '--',
    l.target.host,
    ...l.command,
  ]
  return args
}

/** An exit status as a shell reports it: the code, or 128 + the signal's number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code
  const number = signal ? constants.signals[signal] : undefined
  return number ? 128 + number : 1
}

/**
 * Runs the system `ssh` with the terminal and stdio of this process and resolves with its exit status (the remote
 * command's, or 255 when ssh itself failed). Ctrl-C belongs to ssh while it runs (it reaches both through the
 * terminal); a TERM or HUP sent to cms is passed on to it.
 */
export function runOpenSsh(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, {stdio: 'inherit'})
    const ignore = () => undefined
    const pass = (signal: NodeJS.Signals) => child.kill(signal)
    process.on('SIGINT', ignore)
    process.on('SIGTERM', pass)
    process.on('SIGHUP', pass)
    const done = () => {
      process.off('SIGINT', ignore)
      process.off('SIGTERM', pass)
      process.off('SIGHUP', pass)
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      done()
      reject(new Error(error.code === 'ENOENT' ? "cannot run 'ssh': install the OpenSSH client (Debian: openssh-client)" : `cannot run 'ssh': ${error.message}`))
    })
    child.on('close', (code, signal) => {
      done()
      resolve(exitStatus(code, signal))
    })
  })
}
