import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, docker, makeCmsHome, startPlainHosts} from './helpers.js'

// Hosts cms did not make, reached as plain SSH hosts: a 3-server Nomad cluster (a real Raft quorum) on them.
const PREFIX = 'cms-e2e-nomadssh'
const NAME = 'e2e-nomad-ssh'

/** Nomad's API as the head itself sees it (curl on the host, with the cluster's TLS files and token). */
async function apiOnHead(host: string, ip: string, path: string): Promise<unknown> {
  const dir = `/root/.cms/clusters/${NAME}/nomad`
  const out = await docker('exec', host, 'sh', '-c', `curl -sf --cacert ${dir}/tls/ca.pem --cert ${dir}/secrets/cli.pem --key ${dir}/secrets/cli-key.pem --resolve server.global.nomad:4646:${ip} -H "X-Nomad-Token: $(cat ${dir}/secrets/management.token)" https://server.global.nomad:4646${path}`)
  return JSON.parse(out)
}

describe.skipIf(!process.env.CMS_NOMAD_DIST)('nomad engine on plain SSH hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const key = join(home, 'id_ed25519')
  const env = {CMS_HOME: home}
  let ips: string[] = []
  let names: string[] = []
  let removeHosts = async () => {}

  beforeAll(async () => {
    // What a root Nomad client needs in a container: its own cgroup tree, writable (never --privileged).
    const flags = ['--cap-add', 'SYS_ADMIN', '--cgroupns', 'private', '-e', 'CMS_WRITABLE_CGROUPS=1']
    ;({names, ips, cleanup: removeHosts} = await startPlainHosts(PREFIX, 3, key, flags))
  })

  afterAll(async () => {
    await removeHosts()
    cleanup()
  })

  it('create --servers 3 makes a 3-server Raft quorum and 3 ready nodes', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'ssh', '-e', 'nomad', '--servers', '3', '-i', key, ...ips.map((ip) => `root@${ip}`), '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const peers = (await apiOnHead(names[0]!, ips[0]!, '/v1/status/peers')) as string[]
    expect(peers.map((p) => p.replace(/:4647$/, '')).sort()).toEqual([...ips].sort())
    const nodes = (await apiOnHead(names[0]!, ips[0]!, '/v1/nodes')) as Array<{Address: string; Status: string}>
    expect(nodes.filter((n) => n.Status === 'ready').map((n) => n.Address).sort()).toEqual([...ips].sort())
    const info = JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout)
    expect(info.nomad.servers).toHaveLength(3)
    expect(info.hosts.every((h: {node?: {server: boolean}}) => h.node?.server)).toBe(true)
  })

  it('kill stops every agent and task, unmounts what Nomad mounted and removes every file cms installed', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)
    expect(r.code, r.stderr).toBe(0)
    for (const name of names) {
      expect(await docker('exec', name, 'sh', '-c', 'pgrep -c nomad || true')).toBe('0')
      expect(await docker('exec', name, 'sh', '-c', 'grep -c /root/.cms /proc/mounts || true')).toBe('0')
      expect(await docker('exec', name, 'sh', '-c', 'test -e /root/.cms && echo left || echo clean')).toBe('clean')
    }
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })
})
