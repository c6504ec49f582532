import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {NovaServer} from '../../src/providers/openstack/servers.js'
import {aliveWorkers, cms, makeCmsHome} from './helpers.js'
import {clusterFloatingIps, clusterGroups, clusterServers, FloatingIpForwarder, fixedIp, keyPair, OpenStackLoopbackHosts, serverPorts, testCloud, type TestCloud} from './openstack-cloud.js'

// `-p openstack` against real OpenStack services (scripts/openstack.sh: Keystone, Nova, Neutron, Glance, Placement
// from PyPI). Nova's fake hypervisor keeps servers as records, so OpenStackLoopbackHosts starts a container for each
// ACTIVE server, configured from the server's own user data (read through Nova) and answering SSH on the fixed IP
// Neutron gave it on the loopback subnet. Assertions read the Nova, Neutron and Keystone APIs and the Spark master's
// own API, never what cms printed.
const NAME = 'openstack-e2e'
/** The cluster whose hosts are reached at floating IPs. */
const FIP_NAME = 'openstack-e2e-fip'
const PREFIX = 'openstack-e2e'
const SUBNET = '127.0.8.0/24'


describe('openstack provider end to end (real OpenStack services with the fake hypervisor, Spark)', () => {
  const {home, cleanup} = makeCmsHome()
  let cloud: TestCloud
  let hosts: OpenStackLoopbackHosts
  let nat: FloatingIpForwarder
  let env: Record<string, string>
  let serverIds: string[] = []

  const head = async () => {
    const h = (await clusterServers(cloud.user, NAME)).find((s) => s.metadata?.['cms-role'] === 'head')!
    return {id: h.id, ip: fixedIp(h)}
  }
  /** Waits (bounded) until the master reports `count` alive workers. */
  const waitForAliveWorkers = (count: number) => hosts.waitForAliveWorkers(head, count)
  /** Nothing of the cluster in the cloud: no server, security group, key pair or floating IP, and no local key. */
  const nothingMade = async (name = NAME) => {
    expect(await clusterServers(cloud.user, name)).toEqual([])
    expect(await clusterGroups(cloud.user, name)).toEqual([])
    expect(await keyPair(cloud.user, name)).toBeUndefined()
    expect(await clusterFloatingIps(cloud.user, name)).toEqual([])
    expect(existsSync(join(home, 'keys', name))).toBe(false)
  }

  beforeAll(async () => {
    if (!process.env.CMS_SPARK_DIST) throw new Error('CMS_SPARK_DIST is not set: run eval "$(bash scripts/testbed.sh)" first')
    cloud = testCloud()
    hosts = new OpenStackLoopbackHosts(cloud.admin, PREFIX)
    await hosts.start()
    nat = new FloatingIpForwarder(cloud.admin)
    nat.start()
    // No Docker engine for cms: an openstack cluster needs none, and `list` must not touch other clusters' containers.
    env = {CMS_HOME: home, OS_CLIENT_CONFIG_FILE: cloud.clouds, OS_CLOUD: cloud.cloud, OS_AUTH_URL: '', DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
    await killLeftovers()
  })

  /** What an earlier, failed run (or case) left of the cluster in the cloud goes, through cms itself. */
  const killLeftovers = async () => {
    for (const name of [NAME, FIP_NAME]) {
      const [servers, groups, pair, fips] = await Promise.all([clusterServers(cloud.user, name), clusterGroups(cloud.user, name), keyPair(cloud.user, name), clusterFloatingIps(cloud.user, name)])
      if (servers.length > 0 || groups.length > 0 || pair || fips.length > 0) await cms(['cluster', 'kill', '-n', name, '--yes'], env)
    }
  }

  afterAll(async () => {
    // Whatever a failed case left: the cluster, then the harness's containers.
    if (cloud) await killLeftovers().catch(() => undefined)
    nat?.stop()
    await hosts?.stop()
    await cloud?.user.close()
    await cloud?.admin.close()
    cleanup()
  })

  it('a refused credential and an unknown flavor exit 2 before anything is made', async () => {
    // The OS_* environment (an openrc), with a password Keystone refuses.
    const openrc = {
      OS_CLOUD: '',
      OS_AUTH_URL: cloud.auth.auth_url!,
      OS_USERNAME: cloud.auth.username!,
      OS_PASSWORD: 'not-the-password',
      OS_PROJECT_NAME: cloud.auth.project_name!,
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
    }
    const refused = await cms(['cluster', 'create', '-n', NAME, '-p', 'openstack', '--hosts', '2'], {...env, ...openrc})
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toContain('Keystone refused the credentials of user cms')
    expect(refused.stderr).not.toContain('not-the-password')
    const flavor = await cms(['cluster', 'create', '-n', NAME, '-p', 'openstack', '--hosts', '2', '--flavor', 'm9.huge'], env)
    expect(flavor.code, flavor.stderr).toBe(2)
    expect(flavor.stderr).toContain('unknown flavor "m9.huge" (--flavor)')
    await nothingMade()
  })

  it('create makes tagged ACTIVE servers, one key pair, one security group (SSH from one CIDR, all between members), and a healthy Spark cluster', async () => {
    const started = Date.now()
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'openstack', '--hosts', '2', '--network', cloud.network, '--max-age', '2h', '--json'], env)
    console.log(`create -p openstack --hosts 2: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    expect(hosts.errors).toEqual([])
    expect(r.code, r.stderr).toBe(0)
    const servers = await clusterServers(cloud.user, NAME)
    serverIds = servers.map((s) => s.id)
    expect(servers.map((s) => [s.status, s.metadata?.['cms-role'], s.metadata?.['cms-engine'], s.metadata?.['cms-index'], s.metadata?.['cms-max-age']]).sort((a, b) => String(a[3]).localeCompare(String(b[3])))).toEqual([
      ['ACTIVE', 'head', 'spark', '1', '2h'],
      ['ACTIVE', 'worker', 'spark', '2', '2h'],
    ])
    expect(servers.every((s) => s.tags?.includes(`cms-cluster=${NAME}`))).toBe(true)
    // The default flavor (the smallest with 2 vCPUs and 4 GiB) and the newest Debian 12 image visible.
    expect(servers.map((s) => s.flavor?.original_name)).toEqual(['m1.medium', 'm1.medium'])
    const {images} = await cloud.user.get<{images: Array<{id: string; os_distro?: string; os_version?: string}>}>('image', '/images?os_distro=debian')
    expect(servers.every((s) => images.some((i) => typeof s.image === 'object' && i.id === s.image.id && i.os_version === '12'))).toBe(true)
    expect(servers.every((s) => fixedIp(s).startsWith('127.0.8.'))).toBe(true)

    const pair = await keyPair(cloud.user, NAME)
    expect(pair?.public_key.trim()).toBe(readFileSync(join(home, 'keys', `${NAME}.pub`), 'utf8').trim())
    const groups = await clusterGroups(cloud.user, NAME)
    expect(groups).toHaveLength(1)
    const group = groups[0]!
    // Every server's ports are in the cluster's group (Neutron's view of each server's port).
    const {ports} = await cloud.user.get<{ports: Array<{device_id: string; security_groups: string[]}>}>('network', '/ports')
    const bound = ports.filter((p) => serverIds.includes(p.device_id))
    expect(bound).toHaveLength(2)
    expect(bound.every((p) => p.security_groups.length === 1 && p.security_groups[0] === group.id)).toBe(true)
    const ingress = group.security_group_rules.filter((rule) => rule.direction === 'ingress')
    expect(ingress.map((rule) => [rule.protocol, rule.port_range_min, rule.port_range_max, rule.remote_ip_prefix, rule.remote_group_id]).sort()).toEqual(
      [
        ['tcp', 22, 22, SUBNET, null],
        [null, null, null, null, group.id],
      ].sort(),
    )

    // Host keys were known before the first connection: known_hosts holds, for each server's address, exactly the key
    // in its metadata (the one handed to cloud-init); nothing was trusted on first use.
    expect(r.stderr).not.toContain('Recorded host key')
    const knownHosts = readFileSync(join(home, 'known_hosts'), 'utf8')
    for (const s of servers) expect(knownHosts).toContain(`${fixedIp(s)} ${s.metadata?.['cms-host-key']}\n`)
    expect(statSync(join(home, 'keys', NAME)).mode & 0o777).toBe(0o600)
    const master = await waitForAliveWorkers(2)
    expect(master.status).toBe('ALIVE')
    expect(aliveWorkers(master)).toEqual(servers.map(fixedIp).sort())
    expect(JSON.parse(r.stdout).cluster.health).toBe('healthy')
  })

  it('a rerun of create launches no new server, and starts a stopped one', async () => {
    // The worker stopped through Nova (the fake hypervisor powers it off), as a user or the cloud might.
    const worker = (await clusterServers(cloud.user, NAME)).find((s) => s.metadata?.['cms-role'] === 'worker')!
    await cloud.user.call('compute', 'POST', `/servers/${worker.id}/action`, {'os-stop': null})
    for (let i = 0; i < 60 && (await cloud.user.get<{server: NovaServer}>('compute', `/servers/${worker.id}`)).server.status !== 'SHUTOFF'; i++) await new Promise((r) => setTimeout(r, 500))
    expect((await cloud.user.get<{server: NovaServer}>('compute', `/servers/${worker.id}`)).server.status).toBe('SHUTOFF')
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'openstack', '--hosts', '2', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const servers = await clusterServers(cloud.user, NAME)
    expect(servers.map((s) => s.id).sort()).toEqual([...serverIds].sort())
    expect(servers.map((s) => s.status)).toEqual(['ACTIVE', 'ACTIVE'])
    expect(await clusterGroups(cloud.user, NAME)).toHaveLength(1)
  })

  it('list finds the cluster by its tags from an empty CMS_HOME, with an application credential too', async () => {
    const empty = makeCmsHome()
    try {
      const r = await cms(['cluster', 'list', '--json'], {...env, CMS_HOME: empty.home})
      expect(r.code, r.stderr).toBe(0)
      const entry = JSON.parse(r.stdout).clusters.find((c: {name: string}) => c.name === NAME)
      expect(entry).toMatchObject({provider: 'openstack', engine: 'spark', hosts: 2, runningHosts: 2, maxAgeSeconds: 7200, expired: false})
      // No access key on that "machine": found, but not logged in to.
      expect(entry.error).toContain('access key')

      // An application credential of the cms user (made through Keystone, removed after), in the OS_* environment.
      const token = await fetch(`${cloud.auth.auth_url}/auth/tokens`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({auth: {identity: {methods: ['password'], password: {user: {name: cloud.auth.username, domain: {name: 'Default'}, password: cloud.auth.password}}}, scope: {project: {name: cloud.auth.project_name, domain: {name: 'Default'}}}}}),
      })
      const userId = ((await token.json()) as {token: {user: {id: string}}}).token.user.id
      const headers = {'content-type': 'application/json', 'x-auth-token': token.headers.get('x-subject-token')!}
      const made = await fetch(`${cloud.auth.auth_url}/users/${userId}/application_credentials`, {method: 'POST', headers, body: JSON.stringify({application_credential: {name: `${NAME}-list`}})})
      expect(made.status).toBe(201)
      const credential = ((await made.json()) as {application_credential: {id: string; secret: string}}).application_credential
      try {
        const byCredential = await cms(['cluster', 'list', '--json'], {
          ...env,
          CMS_HOME: empty.home,
          OS_CLOUD: '',
          OS_AUTH_URL: cloud.auth.auth_url!,
          OS_AUTH_TYPE: 'v3applicationcredential',
          OS_APPLICATION_CREDENTIAL_ID: credential.id,
          OS_APPLICATION_CREDENTIAL_SECRET: credential.secret,
        })
        expect(byCredential.code, byCredential.stderr).toBe(0)
        expect(JSON.parse(byCredential.stdout).clusters.find((c: {name: string}) => c.name === NAME)).toMatchObject({provider: 'openstack', hosts: 2})
      } finally {
        await fetch(`${cloud.auth.auth_url}/users/${userId}/application_credentials/${credential.id}`, {method: 'DELETE', headers})
      }
    } finally {
      empty.cleanup()
    }
  })

  it('add launches a worker like the others and it joins the master; remove drains it, then deletes its server', async () => {
    const added = await cms(['cluster', 'add', '-n', NAME, '--json'], env)
    expect(added.code, added.stderr).toBe(0)
    const servers = await clusterServers(cloud.user, NAME)
    expect(servers).toHaveLength(3)
    const worker = servers.find((s) => s.metadata?.['cms-index'] === '3')!
    const model = servers.find((s) => s.metadata?.['cms-index'] === '2')!
    expect(worker.metadata).toMatchObject({'cms-role': 'worker', 'cms-engine': 'spark', 'cms-max-age': '2h'})
    expect([worker.flavor?.original_name, worker.image, Object.keys(worker.addresses ?? {})]).toEqual([model.flavor?.original_name, model.image, Object.keys(model.addresses ?? {})])
    expect(aliveWorkers(await waitForAliveWorkers(3))).toContain(fixedIp(worker))

    const removed = await cms(['cluster', 'remove', '-n', NAME, worker.id], env)
    expect(removed.code, removed.stderr).toBe(0)
    // Nova deletes in the background: the server is gone within a minute.
    for (let i = 0; i < 120 && (await cloud.user.call('compute', 'GET', `/servers/${worker.id}`, undefined, {allow404: true})); i++) await new Promise((r) => setTimeout(r, 500))
    expect((await clusterServers(cloud.user, NAME)).map((s) => s.id).sort()).toEqual([...serverIds].sort())
    expect(aliveWorkers(await waitForAliveWorkers(2))).not.toContain(fixedIp(worker))
    serverIds.push(worker.id)
  })

  it('kill deletes every server, then the security group and the key pair: nothing is left in Nova or Neutron', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(serverIds).toHaveLength(3)
    for (const id of serverIds) expect(await cloud.user.call('compute', 'GET', `/servers/${id}`, undefined, {allow404: true})).toBeUndefined()
    expect(await serverPorts(cloud.user, serverIds)).toEqual([])
    await nothingMade()
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })

  it('--floating-ip: every server gets a floating IP of the external network, bound to its port; cms reaches the hosts there, the engine binds the fixed IPs; remove and kill delete them', async () => {
    const external = process.env.CMS_OPENSTACK_TEST_EXTERNAL_NETWORK
    if (!external) throw new Error('CMS_OPENSTACK_TEST_EXTERNAL_NETWORK is not set: run eval "$(bash scripts/openstack.sh)" first')
    const args = ['cluster', 'create', '-n', FIP_NAME, '-p', 'openstack', '--hosts', '2', '--network', cloud.network, '--ssh-cidr', '127.0.0.0/8']
    // A network that is not external has no floating IPs: refused before anything is made.
    const internal = await cms([...args, '--floating-ip', cloud.network], env)
    expect(internal.code, internal.stderr).toBe(2)
    expect(internal.stderr).toContain(`--floating-ip ${cloud.network}: network ${cloud.network} is not external (router:external)`)
    await nothingMade(FIP_NAME)

    const r = await cms([...args, '--floating-ip', external, '--json'], env)
    expect(hosts.errors).toEqual([])
    expect(r.code, r.stderr).toBe(0)
    const servers = await clusterServers(cloud.user, FIP_NAME)
    const {networks} = await cloud.user.get<{networks: Array<{id: string; name: string}>}>('network', `/networks?name=${encodeURIComponent(external)}`)
    const fips = await clusterFloatingIps(cloud.user, FIP_NAME)
    expect(fips).toHaveLength(2)
    const {ports} = await cloud.user.get<{ports: Array<{id: string; device_id: string}>}>('network', '/ports')
    for (const s of servers) {
      const fip = fips.find((f) => f.fixed_ip_address === fixedIp(s))
      expect(fip, `no floating IP bound to ${s.id}`).toBeDefined()
      expect(fip!.floating_network_id).toBe(networks[0]!.id)
      expect(ports.find((p) => p.id === fip!.port_id)?.device_id).toBe(s.id)
      expect(fip!.floating_ip_address.startsWith('127.0.9.')).toBe(true)
    }
    // cms's SSH connections came in through every floating IP (the forwarder counts them), and it trusted each
    // server's published key at that address.
    const seen = nat.connections()
    for (const f of fips) expect(seen.get(f.floating_ip_address) ?? 0).toBeGreaterThan(0)
    const knownHosts = readFileSync(join(home, 'known_hosts'), 'utf8')
    for (const s of servers) expect(knownHosts).toContain(`${fips.find((f) => f.fixed_ip_address === fixedIp(s))!.floating_ip_address} ${s.metadata?.['cms-host-key']}\n`)
    const fipHead = async () => {
      const h = (await clusterServers(cloud.user, FIP_NAME)).find((s) => s.metadata?.['cms-role'] === 'head')!
      return {id: h.id, ip: fixedIp(h)}
    }
    expect(aliveWorkers(await hosts.waitForAliveWorkers(fipHead, 2))).toEqual(servers.map(fixedIp).sort())

    const worker = servers.find((s) => s.metadata?.['cms-role'] === 'worker')!
    const removed = await cms(['cluster', 'remove', '-n', FIP_NAME, worker.id], env)
    expect(removed.code, removed.stderr).toBe(0)
    expect((await clusterFloatingIps(cloud.user, FIP_NAME)).map((f) => f.fixed_ip_address)).toEqual(servers.filter((s) => s.id !== worker.id).map(fixedIp))

    const killed = await cms(['cluster', 'kill', '-n', FIP_NAME, '--yes'], env)
    expect(killed.code, killed.stderr).toBe(0)
    await nothingMade(FIP_NAME)
    const {floatingips} = await cloud.user.get<{floatingips: Array<{floating_ip_address: string}>}>('network', '/floatingips')
    expect(floatingips.filter((f) => fips.some((g) => g.floating_ip_address === f.floating_ip_address))).toEqual([])
  })
})
