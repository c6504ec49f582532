/**
 * Test helper: a throwaway `nomad agent -dev` on 127.0.0.1 with the configuration cms renders (ACLs, mutual
 * TLS with a CA from pki.ts, raw_exec, no update check, no cloud fingerprinting), from the testbed's Nomad zip
 * (CMS_NOMAD_DIST). Run as `nobody` when the tests run as root, so Nomad manages no cgroups and mounts nothing on
 * this machine. Not a test file itself.
 */
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {renderAgentConfig} from '../../../src/engines/nomad/agent-config.js'
import {nomadAgentCertificate, nomadCertificateAuthority, nomadCliCertificate, nomadServerName} from '../../../src/engines/nomad/certificates.js'
import type {KeyPairPem} from '../../../src/engines/nomad/pki.js'

/** Why the Nomad tests cannot run here, or undefined when they can. */
export function nomadSkipReason(): string | undefined {
  const dist = process.env.CMS_NOMAD_DIST
  if (!dist) return 'CMS_NOMAD_DIST is not set: run `eval "$(bash scripts/testbed.sh --nomad)"` (or scripts/nomad-dist.sh) first'
  if (!existsSync(dist)) return `CMS_NOMAD_DIST=${dist} does not exist: rerun scripts/nomad-dist.sh`
  return undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
  })
}

/** A meta value that only survives if agent-config.ts quotes it right (checked through /v1/node/:id). */
export const TRICKY_META = 'quote " backslash \\ newline \n tab \t unicode é ✓ $dollar {brace}'

export class DevAgent {
  dir = ''
  readonly region = 'global'
  readonly ca: KeyPairPem = nomadCertificateAuthority('devtest')
  readonly cli: KeyPairPem = nomadCliCertificate(this.ca, {region: this.region})
  readonly servername = nomadServerName(this.region)
  ports = {http: 0, rpc: 0, serf: 0}
  private proc: ChildProcess | undefined
  log = ''

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'cms-nomad-dev-'))
    const bin = join(this.dir, 'bin')
    mkdirSync(bin)
    // The release zip holds one file, nomad (python3's zipfile: no unzip needed on the machine).
    execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("nomad", sys.argv[2])', process.env.CMS_NOMAD_DIST!, bin])
    chmodSync(join(bin, 'nomad'), 0o755)
    this.ports = {http: await freePort(), rpc: await freePort(), serf: await freePort()}
    const tls = join(this.dir, 'tls')
    mkdirSync(tls)
    const agent = nomadAgentCertificate(this.ca, {role: 'server', region: this.region, addresses: ['127.0.0.1']})
    writeFileSync(join(tls, 'ca.pem'), this.ca.certificatePem)
    writeFileSync(join(tls, 'agent.pem'), agent.certificatePem)
    writeFileSync(join(tls, 'agent-key.pem'), agent.privateKeyPem, {mode: 0o600})
    const config = renderAgentConfig({
      nodeName: 'devtest',
      region: this.region,
      datacenter: 'dc1',
      dataDir: join(this.dir, 'data'),
      privateAddress: '127.0.0.1',
      ports: this.ports,
      tls: {caFile: join(tls, 'ca.pem'), certFile: join(tls, 'agent.pem'), keyFile: join(tls, 'agent-key.pem')},
      server: {bootstrapExpect: 1, gossipKey: randomBytes(32).toString('base64'), join: []},
      client: {servers: ['127.0.0.1'], drivers: ['raw_exec'], meta: {'cms.host': 'devtest', 'cms.note': TRICKY_META}},
    })
    writeFileSync(join(this.dir, 'agent.hcl'), config)
    mkdirSync(join(this.dir, 'data'))
    const root = process.getuid?.() === 0
    if (root) {
      for (const p of [this.dir, bin, tls, join(this.dir, 'data'), ...['ca.pem', 'agent.pem', 'agent-key.pem'].map((f) => join(tls, f))]) {
        chownSync(p, 65534, 65534)
      }
    }
    this.proc = spawn(join(bin, 'nomad'), ['agent', '-dev', '-config', join(this.dir, 'agent.hcl')], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {PATH: '/usr/local/bin:/usr/bin:/bin', HOME: this.dir},
      ...(root ? {uid: 65534, gid: 65534} : {}),
    })
    this.proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()))
    this.proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()))
  }

  /** The agent log's tail, for failure messages. */
  tail(lines = 30): string {
    return this.log.split('\n').slice(-lines).join('\n')
  }

  get alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null
  }

  async stop(): Promise<void> {
    if (!this.dir) return
    const p = this.proc
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()))
      p.kill('SIGINT')
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    // raw_exec tasks outlive a stopped agent (each with its `nomad executor` as session leader): the tests
    // stop their jobs first, this catches stragglers. Only sessions led by one of our processes are killed.
    for (const pid of ourPids(this.dir)) {
      const sid = sessionOf(pid)
      if (sid === pid) spawnSync('pkill', ['-KILL', '-s', String(sid)], {stdio: 'ignore'})
      else spawnSync('kill', ['-KILL', String(pid)], {stdio: 'ignore'})
    }
    rmSync(this.dir, {recursive: true, force: true})
  }
}

function ourPids(dir: string): number[] {
  const r = spawnSync('pgrep', ['-f', `${dir}/`], {encoding: 'utf8'})
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid)
}

function sessionOf(pid: number): number | undefined {
  try {
    // /proc/PID/stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces, so split after ")".
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return Number(fields[3])
  } catch {
    return undefined
  }
}
