import {execFileSync, spawn} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {nomadLayout} from '../../../src/engines/nomad/layout.js'
import * as scripts from '../../../src/engines/nomad/scripts.js'

const sh = (script: string) => execFileSync('/bin/bash', ['-c', script], {encoding: 'utf8'})

describe('Nomad host scripts in a real shell', () => {
  it('cleanup stops tasks found by their environment and by the data dir, removes the files, never itself', async () => {
    const home = mkdtempSync(join(tmpdir(), "cms-nomad-it's-"))
    const l = nomadLayout(home, 'demo')
    sh(scripts.prepareDirsScript(l))
    writeFileSync(l.client.config, '# config\n')
    // A raw_exec-like task: nothing of the data dir on its command line, only in its environment.
    const task = spawn('sleep', ['300'], {env: {...process.env, NOMAD_ALLOC_DIR: `${l.client.dataDir}/alloc/x/alloc`}, detached: true, stdio: 'ignore'})
    // An executor-like process with the data dir on its command line.
    const executor = spawn('bash', ['-c', 'sleep 300; true', `${l.server.dataDir}/alloc/x/executor.out`], {detached: true, stdio: 'ignore'})
    await new Promise((r) => setTimeout(r, 300))
    expect(Number(sh(scripts.leftoverScript(l)).trim())).toBe(2)
    sh(scripts.cleanupScript(l, home))
    const exited = (p: ReturnType<typeof spawn>) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(true) : p.once('exit', () => r(true))))
    await Promise.all([exited(task), exited(executor)])
    expect(existsSync(join(home, '.cms'))).toBe(false)
    mkdirSync(l.dir, {recursive: true})
    writeFileSync(l.client.config, '')
    expect(sh(scripts.leftoverScript(l)).trim()).toBe('0')
  })

  it("never takes another program for the agent (a rebooted host's pid file), nor stops it", () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-nomad-'))
    const l = nomadLayout(home, 'demo')
    sh(scripts.prepareDirsScript(l))
    const other = spawn('sleep', ['300'], {detached: true, stdio: 'ignore'})
    try {
      writeFileSync(l.client.pidFile, `${other.pid}\n`)
      expect(Number(sh(scripts.leftoverScript(l)).trim())).toBe(0)
      sh(scripts.stopAgentScript(l.client))
      expect(sh(`kill -0 ${other.pid} 2>/dev/null && echo alive || echo gone`).trim()).toBe('alive')
    } finally {
      other.kill('SIGKILL')
      sh(scripts.cleanupScript(l, home))
    }
  })

  it('starts an agent once per configuration and restarts it when the configuration changes', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-nomad-'))
    const l = nomadLayout(home, 'demo')
    sh(scripts.prepareDirsScript(l))
    // A program named nomad (a copy of bash) that stays up until TERM: run as `nomad agent -config=...` from the
    // configuration's folder, it runs the script `agent` there.
    const fake = join(home, 'nomad')
    copyFileSync('/bin/bash', fake)
    for (const a of [l.client, l.server]) writeFileSync(join(dirname(a.config), 'agent'), "sleep 300 & c=$!; trap 'kill $c; exit 0' TERM; wait\n")
    expect(sh(scripts.startAgentScript(l.client, fake, 'h1')).trim()).toBe('started')
    expect(sh(scripts.startAgentScript(l.client, fake, 'h1')).trim()).toBe('running')
    expect(sh(scripts.startAgentScript(l.client, fake, 'h2')).trim()).toBe('restarted')
    expect(sh(scripts.startAgentScript(l.server, fake, 'h1')).trim()).toBe('started')
    sh(scripts.stopAgentScript(l.client))
    expect(existsSync(l.client.pidFile)).toBe(false)
    expect(Number(sh(scripts.leftoverScript(l)).trim())).toBeGreaterThanOrEqual(1)
    const server = sh(`cat ${l.server.pidFile}`).trim()
    sh(scripts.cleanupScript(l, home))
    expect(existsSync(join(home, '.cms'))).toBe(false)
    // The server agent went with the cleanup (a zombie not yet reaped has no command line: it is gone).
    expect(sh(`[ -n "$(tr -d '\\0' < /proc/${server}/cmdline 2>/dev/null)" ] && echo alive || echo gone`).trim()).toBe('gone')
  })
})
