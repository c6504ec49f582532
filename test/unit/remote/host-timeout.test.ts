import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {isHostTimeoutExit, withHostTimeout} from '../../../src/remote/host-timeout.js'
import {shq} from '../../../src/remote/shell.js'
import {pidsRunning} from './sshd-harness.js'

/** Run a wrapped command the way sshd would: the login shell ($SHELL) with -c. */
function runWrapped(command: string, timeoutMs: number, opts: {input?: string; env?: Record<string, string>} = {}) {
  const t0 = Date.now()
  const r = spawnSync('/bin/sh', ['-c', withHostTimeout(command, timeoutMs)], {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: {PATH: process.env.PATH ?? '/usr/bin:/bin', SHELL: '/bin/sh', ...opts.env},
    timeout: 20_000,
  })
  return {status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0}
}

const hasTimeout = spawnSync('sh', ['-c', 'command -v timeout']).status === 0

describe('withHostTimeout', () => {
  it('writes the timeout in seconds, with TERM then KILL 2 s later', () => {
    expect(withHostTimeout('true', 300)).toContain('timeout -k 2 0.3 "$@"')
    expect(withHostTimeout('true', 600_000)).toContain('timeout -k 2 600 "$@"')
    expect(withHostTimeout('true', 0.2)).toContain('timeout -k 2 0.001 "$@"')
    expect(withHostTimeout("it's", 1000)).toContain(`-c ${shq("it's")};`)
  })

  it.skipIf(!hasTimeout)('keeps the command\'s output, stdin and exit code, whatever it contains', () => {
    const nasty = "mix 'single' \"double\" $var `cmd` \\ \n end ✓"
    expect(runWrapped(`printf %s ${shq(nasty)}; echo err >&2; exit 3`, 10_000)).toMatchObject({status: 3, stdout: nasty, stderr: 'err\n'})
    expect(runWrapped('cat; exit 124', 10_000, {input: 'from stdin'})).toMatchObject({status: 124, stdout: 'from stdin'})
  })

  it.skipIf(!hasTimeout)('ends the command and its children on time: exit 124', () => {
    const secs = `40.${process.pid}`
    const r = runWrapped(`sh -c 'sleep ${secs}' & sleep ${secs}; echo not-reached`, 300)
    expect(r).toMatchObject({status: 124, stdout: ''})
    expect(r.ms).toBeLessThan(5000)
    expect(pidsRunning(['sleep', secs])).toEqual([])
  })

  it.skipIf(!hasTimeout)('KILLs a command that ignores TERM after the grace, timeout(1) itself included', () => {
    // the KILL goes to timeout(1)'s whole process group; the wrapper exec'd it, so the login shell dies of it
    // too (sshd reports exit-signal KILL; a shell waiting for it would report 137)
    const secs = `41.${process.pid}`
    const r = runWrapped(`trap '' TERM; sleep ${secs}; echo not-reached`, 300)
    expect(r).toMatchObject({status: null, signal: 'SIGKILL', stdout: ''})
    expect(pidsRunning(['sleep', secs])).toEqual([])
    expect(r.ms).toBeGreaterThanOrEqual(2000)
    expect(r.ms).toBeLessThan(8000)
  })

  it('runs the command unwrapped where timeout(1) is missing', () => {
    expect(runWrapped('echo "$((6*7))"; exit 5', 300, {env: {PATH: '/nonexistent'}})).toMatchObject({status: 5, stdout: '42\n'})
  })

  it('runs the command under the login shell ($SHELL), /bin/sh when unset', () => {
    if (existsSync('/bin/bash')) expect(runWrapped('echo "${BASH_VERSION:+bash}"', 10_000, {env: {SHELL: '/bin/bash'}}).stdout).toBe('bash\n')
    const r = spawnSync('/bin/sh', ['-c', withHostTimeout('echo "$0"', 10_000)], {encoding: 'utf8', env: {PATH: process.env.PATH ?? '/usr/bin:/bin'}})
    expect(r.stdout).toBe('/bin/sh\n')
  })
})

describe('isHostTimeoutExit', () => {
  it('is timeout(1)\'s 124 (TERM) and 137 (KILL), nothing else', () => {
    expect([124, 137].every(isHostTimeoutExit)).toBe(true)
    expect([0, 1, 125, 126, 127, 143, null, undefined].some(isHostTimeoutExit)).toBe(false)
  })
})
