import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {FINGERPRINT_DENYLIST, renderAgentConfig} from '../../../src/engines/nomad/agent-config.js'
import type {NomadAgentConfigInput} from '../../../src/engines/nomad/agent-config.js'
import {hclVariables} from '../../../src/engines/nomad/api.js'
import {hclString} from '../../../src/engines/nomad/hcl.js'
import {nomadSkipReason} from './dev-agent.js'

const KEY = 'M/AUVlFsgDxvFod6/6WBl2e1+gMGsX5BiC42RsNPGIg='
const TLS = {caFile: '/etc/cms/nomad/tls/ca.pem', certFile: '/etc/cms/nomad/tls/agent.pem', keyFile: '/etc/cms/nomad/tls/agent-key.pem'}

const server = (over: Partial<NomadAgentConfigInput> = {}): NomadAgentConfigInput => ({
  nodeName: 'head',
  region: 'global',
  datacenter: 'dc1',
  dataDir: '/var/lib/cms/nomad/server',
  privateAddress: '10.0.0.2',
  tls: TLS,
  server: {bootstrapExpect: 3, gossipKey: KEY, join: ['10.0.0.2', '10.0.0.3', '10.0.0.4']},
  ...over,
})

const client = (over: Partial<NomadAgentConfigInput> = {}): NomadAgentConfigInput => ({
  nodeName: 'w1',
  region: 'global',
  datacenter: 'dc1',
  dataDir: '/var/lib/cms/nomad/client',
  privateAddress: '10.0.0.5',
  tls: TLS,
  client: {servers: ['10.0.0.2', '10.0.0.3'], drivers: ['raw_exec'], meta: {'cms.host': 'w1'}},
  ...over,
})

describe('renderAgentConfig', () => {
  it('renders a locked-down server: private address only, ACLs, TLS both ways, gossip key, peers to join', () => {
    const hcl = renderAgentConfig(server())
    expect(hcl).toContain('bind_addr  = "10.0.0.2"')
    expect(hcl).toContain('disable_update_check = true')
    expect(hcl).toMatch(/addresses \{\n {2}http = "10\.0\.0\.2"\n {2}rpc {2}= "10\.0\.0\.2"\n {2}serf = "10\.0\.0\.2"\n\}/)
    expect(hcl).toMatch(/advertise \{\n {2}http = "10\.0\.0\.2:4646"\n {2}rpc {2}= "10\.0\.0\.2:4647"\n {2}serf = "10\.0\.0\.2:4648"\n\}/)
    expect(hcl).toMatch(/acl \{\n {2}enabled = true\n\}/)
    expect(hcl).toContain('  http = true\n  rpc  = true\n')
    expect(hcl).toContain('  verify_server_hostname = true\n  verify_https_client    = true\n')
    expect(hcl).toContain('  ca_file   = "/etc/cms/nomad/tls/ca.pem"')
    expect(hcl).toContain(`  encrypt          = "${KEY}"`)
    expect(hcl).toContain('  bootstrap_expect = 3')
    // Its own address is not a peer to join.
    expect(hcl).toContain('    retry_join = ["10.0.0.3:4648", "10.0.0.4:4648"]')
    expect(hcl).toMatch(/consul \{\n {2}auto_advertise {3}= false\n {2}server_auto_join = false\n {2}client_auto_join = false\n\}/)
    expect(hcl).not.toContain('client {')
    expect(hcl).not.toContain('0.0.0.0')
  })

  it('renders a single server without server_join, and extra HTTP addresses', () => {
    const hcl = renderAgentConfig(server({server: {bootstrapExpect: 1, gossipKey: KEY, join: ['10.0.0.2']}, extraHttpAddresses: ['127.0.0.1']}))
    expect(hcl).not.toContain('server_join')
    expect(hcl).toContain('  http = "10.0.0.2 127.0.0.1"')
    expect(hcl).toContain('  rpc  = "10.0.0.2"')
  })

  it('renders a client: servers with the RPC port, denylisted fingerprinters, allowed drivers, raw_exec on', () => {
    const hcl = renderAgentConfig(client({ports: {http: 4656, rpc: 4647, serf: 4648}}))
    expect(hcl).toContain('  servers = ["10.0.0.2:4647", "10.0.0.3:4647"]')
    expect(hcl).toContain(`    "fingerprint.denylist" = "${FINGERPRINT_DENYLIST.join(',')}"`)
    expect(FINGERPRINT_DENYLIST).toEqual(expect.arrayContaining(['env_aws', 'env_gce', 'env_azure', 'env_digitalocean']))
    expect(hcl).toContain('    "driver.allowlist"     = "raw_exec"')
    expect(hcl).toMatch(/plugin "raw_exec" \{\n {2}config \{\n {4}enabled = true\n {2}\}\n\}/)
    expect(hcl).toContain('    "cms.host" = "w1"')
    expect(hcl).toContain('  http = 4656')
    expect(hcl).not.toContain('server {')
    expect(hcl).not.toContain('encrypt')
  })

  it('leaves raw_exec off when not asked for and lists the drivers asked for', () => {
    const hcl = renderAgentConfig(client({client: {servers: ['10.0.0.2'], drivers: ['exec', 'docker']}}))
    expect(hcl).toContain('"driver.allowlist"     = "exec,docker"')
    expect(hcl).not.toContain('raw_exec')
  })

  it('brackets IPv6 addresses with ports', () => {
    const hcl = renderAgentConfig(client({privateAddress: 'fd00::5', client: {servers: ['fd00::2'], drivers: ['raw_exec']}}))
    expect(hcl).toContain('  servers = ["[fd00::2]:4647"]')
    expect(hcl).toContain('  rpc  = "[fd00::5]:4647"')
    expect(hcl).toContain('bind_addr  = "fd00::5"')
  })

  it('quotes every value: a hostile meta value stays one string', () => {
    const hcl = renderAgentConfig(client({client: {servers: ['10.0.0.2'], drivers: ['raw_exec'], meta: {'k"x': 'a"\nbogus = "1', back: 'c:\\dir'}}}))
    expect(hcl).toContain('    "k\\"x" = "a\\"\\nbogus = \\"1"')
    expect(hcl).toContain('    "back" = "c:\\\\dir"')
    expect(hcl).not.toMatch(/^bogus/m)
  })

  it('refuses bad input before rendering anything', () => {
    expect(() => renderAgentConfig(client({nodeName: 'bad name'}))).toThrow(/node name/)
    expect(() => renderAgentConfig(client({region: ''}))).toThrow(/region/)
    expect(() => renderAgentConfig(client({dataDir: 'relative/dir'}))).toThrow(/absolute/)
    expect(() => renderAgentConfig(client({privateAddress: '0.0.0.0'}))).toThrow(/wildcard/)
    expect(() => renderAgentConfig(client({privateAddress: 'host.example'}))).toThrow(/not an IP/)
    expect(() => renderAgentConfig(client({client: {servers: [], drivers: ['raw_exec']}}))).toThrow(/server address/)
    expect(() => renderAgentConfig(client({client: {servers: ['10.0.0.2'], drivers: []}}))).toThrow(/task driver/)
    expect(() => renderAgentConfig(server({server: {bootstrapExpect: 2, gossipKey: KEY, join: []}}))).toThrow(/bootstrap_expect/)
    expect(() => renderAgentConfig(server({server: {bootstrapExpect: 1, gossipKey: 'short', join: []}}))).toThrow(/gossip key/)
    expect(() => renderAgentConfig({...client(), client: undefined})).toThrow(/server or a client/)
    expect(() => renderAgentConfig(client({ports: {http: 0, rpc: 4647, serf: 4648}}))).toThrow(/port/)
    expect(() => renderAgentConfig(client({client: {servers: ['10.0.0.2'], drivers: ['raw_exec'], meta: {k: '${env}'}}}))).toThrow(/\$\{/)
  })
})

describe('hclString / hclVariables', () => {
  it('escapes for HCL 1 and refuses what it cannot make safe', () => {
    expect(hclString('plain')).toBe('"plain"')
    expect(hclString('a"b\\c\nd\te\rf')).toBe('"a\\"b\\\\c\\nd\\te\\rf"')
    expect(hclString('é ✓')).toBe('"é ✓"')
    expect(() => hclString('x${y}')).toThrow()
    expect(() => hclString('x%{y}')).toThrow()
    expect(() => hclString('bell\u0007')).toThrow(/control/)
  })

  it('writes --var pairs as a variables file, never evaluating a value', () => {
    expect(hclVariables({n: '3', msg: 'say "hi" ${x} %{y} \\ end\nnext'})).toBe('n = "3"\nmsg = "say \\"hi\\" $${x} %%{y} \\\\ end\\nnext"\n')
    expect(hclVariables({})).toBe('')
    expect(() => hclVariables({'bad name': 'x'})).toThrow(/variable name/)
  })
})

const skip = nomadSkipReason()
describe.skipIf(skip !== undefined)('renderAgentConfig output accepted by `nomad config validate`', () => {
  const dir = skip ? '' : mkdtempSync(join(tmpdir(), 'cms-nomad-validate-'))
  afterAll(() => {
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('validates a server, a client and a hostile meta value', () => {
    execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("nomad", sys.argv[2])', process.env.CMS_NOMAD_DIST!, dir])
    chmodSync(join(dir, 'nomad'), 0o755)
    const configs = {
      server: renderAgentConfig(server()),
      single: renderAgentConfig(server({server: {bootstrapExpect: 1, gossipKey: KEY, join: []}, client: {servers: ['10.0.0.2'], drivers: ['raw_exec']}})),
      client: renderAgentConfig(client({client: {servers: ['10.0.0.2'], drivers: ['raw_exec'], meta: {'k"x': 'a"\nbogus = "1', back: 'c:\\dir'}}})),
    }
    for (const [name, hcl] of Object.entries(configs)) {
      const file = join(dir, `${name}.hcl`)
      writeFileSync(file, hcl)
      const r = spawnSync(join(dir, 'nomad'), ['config', 'validate', file], {encoding: 'utf8'})
      expect({name, status: r.status, out: r.stdout + r.stderr}).toMatchObject({name, status: 0, out: expect.stringContaining('Configuration is valid!')})
    }
    // The check can fail: an unknown key is refused.
    const bad = join(dir, 'bad.hcl')
    writeFileSync(bad, configs.client + 'bogus = 1\n')
    const r = spawnSync(join(dir, 'nomad'), ['config', 'validate', bad], {encoding: 'utf8'})
    expect(r.status).not.toBe(0)
    expect(r.stdout + r.stderr).toMatch(/unexpected keys bogus/)
  })
})
