import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {cidrContains} from '../../src/engines/kubernetes/network.js'
import {shJoin, shq} from '../../src/remote/shell.js'
import {cms, docker, makeCmsHome, waitUntil} from './helpers.js'
import {clusterGroups, clusterServers, fixedIp, keyPair, novaMachines, testCloud, type TestCloud} from './openstack-cloud.js'
import {VpcHosts} from './vpc-hosts.js'

// Nomad, Hadoop and Kubernetes on `-p openstack`, against the real OpenStack services scripts/openstack.sh runs
// (Keystone, Nova with its fake hypervisor, Neutron, Glance, Placement). Kubernetes refuses loopback node
// addresses, so these servers are on a Neutron network the test makes in the cms project, whose subnet is the range
// of the test's own Docker network (VpcHosts): each server Nova reports ACTIVE is played by a container at exactly the
// fixed IP Neutron gave it. Assertions read Nova and Neutron, and each engine's own API on the servers.
const PREFIX = 'cms-e2e-ose'
const NOMAD = 'ose-nomad'
const HADOOP = 'ose-hadoop'
const K8S = 'ose-k8s'
const NET = `${PREFIX}-net`


describe('openstack provider with every engine (servers on a Neutron network of the test\'s own range)', () => {
  const {home, cleanup} = makeCmsHome()
  let cloud: TestCloud
  let hosts: VpcHosts
  let env: Record<string, string>
  let networkId = ''

  /** Neutron objects by name in the cms project (what an earlier, failed run left is removed first). */
  const networksNamed = async (name: string) => (await cloud.user.get<{networks: Array<{id: string}>}>('network', `/networks?name=${encodeURIComponent(name)}`)).networks
  const removeNetwork = async () => {
    for (const n of await networksNamed(NET)) {
      const {subnets} = await cloud.user.get<{subnets: Array<{id: string}>}>('network', `/subnets?network_id=${n.id}`)
      for (const s of subnets) await cloud.user.call('network', 'DELETE', `/subnets/${s.id}`, undefined, {allow404: true})
      await cloud.user.call('network', 'DELETE', `/networks/${n.id}`, undefined, {allow404: true})
    }
  }
  const killLeftovers = async () => {
    for (const name of [NOMAD, HADOOP, K8S]) if ((await clusterServers(cloud.user, name)).length > 0 || (await keyPair(cloud.user, name))) await cms(['cluster', 'kill', '-n', name, '--yes'], env)
  }

  beforeAll(async () => {
    for (const v of ['CMS_NOMAD_DIST', 'CMS_HADOOP_DIST', 'CMS_K8S_DIST']) if (!process.env[v]) throw new Error(`${v} is not set: run eval "$(bash scripts/testbed.sh --nomad --kubernetes --hadoop)" first`)
    cloud = testCloud()
    env = {CMS_HOME: home, OS_CLIENT_CONFIG_FILE: cloud.clouds, OS_CLOUD: cloud.cloud, OS_AUTH_URL: '', DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
    await killLeftovers()
    await removeNetwork()
    hosts = new VpcHosts(novaMachines(cloud.admin), PREFIX)
    await hosts.start()
    // The cms user's own network, as a project member makes one: the range is the Docker network's, no DHCP (Neutron
    // gives each port its fixed IP; the container is started at it).
    const base = hosts.range.replace(/\.0\/24$/, '.')
    const {network} = (await cloud.user.call<{network: {id: string}}>('network', 'POST', '/networks', {network: {name: NET}}))!
    networkId = network.id
    await cloud.user.call('network', 'POST', '/subnets', {subnet: {network_id: networkId, name: `${NET}-subnet`, ip_version: 4, cidr: hosts.range, gateway_ip: `${base}1`, enable_dhcp: false, allocation_pools: [{start: `${base}4`, end: `${base}19`}]}})
  }, 600_000)

  afterAll(async () => {
    if (cloud) await killLeftovers().catch(() => undefined)
    await hosts?.stop()
    if (cloud) await removeNetwork().catch(() => undefined)
    await cloud?.user.close()
    await cloud?.admin.close()
    cleanup()
  })

  /** Creates a cluster of `engine` on the test's network; returns its servers (ACTIVE, tagged, on the range). */
  const create = async (name: string, engine: string, count: number, login: string) => {
    const r = await cms(['cluster', 'create', '-n', name, '-p', 'openstack', '-e', engine, '--hosts', String(count), '--network', NET], env, {timeoutMs: 900_000})
    expect(hosts.errors).toEqual([])
    expect(r.code, r.stderr).toBe(0)
    const servers = (await clusterServers(cloud.user, name)).sort((a, b) => Number(a.metadata?.['cms-index']) - Number(b.metadata?.['cms-index']))
    expect(servers.map((s) => [s.status, s.metadata?.['cms-engine'], s.metadata?.['cms-ssh-user']])).toEqual(Array.from({length: count}, () => ['ACTIVE', engine, login]))
    expect(servers.every((s) => cidrContains(hosts.range, `${fixedIp(s)}/32`))).toBe(true)
    return servers
  }
  /** kill leaves no server, security group or key pair in the cloud, and no container. */
  const killAll = async (name: string) => {
    expect((await cms(['cluster', 'kill', '-n', name, '--yes'], env, {timeoutMs: 300_000})).code).toBe(0)
    expect(await clusterServers(cloud.user, name)).toEqual([])
    expect(await clusterGroups(cloud.user, name)).toEqual([])
    expect(await keyPair(cloud.user, name)).toBeUndefined()
    await waitUntil('the servers\' containers to go', async () => (await hosts.containers()).length === 0, 30_000)
  }

  it('nomad: create makes a server whose Nomad client is ready at its fixed IP; kill leaves nothing', async () => {
    const [server] = await create(NOMAD, 'nomad', 1, 'debian')
    const address = fixedIp(server!)
    // Nomad's API as the server itself sees it (curl there, with the cluster's TLS files and management token).
    const dir = `/home/debian/.cms/clusters/${NOMAD}/nomad`
    const out = await docker('exec', hosts.container(server!.id), 'sh', '-c', `curl -sf --cacert ${dir}/tls/ca.pem --cert ${dir}/secrets/cli.pem --key ${dir}/secrets/cli-key.pem --resolve server.global.nomad:4646:${address} -H "X-Nomad-Token: $(cat ${dir}/secrets/management.token)" https://server.global.nomad:4646/v1/nodes`)
    expect((JSON.parse(out) as Array<{Address: string; Status: string}>).map((n) => [n.Address, n.Status])).toEqual([[address, 'ready']])
    await killAll(NOMAD)
  })

  it('hadoop: create makes a server whose NodeManager and DataNode are live at its fixed IP; kill leaves nothing', async () => {
    const [server] = await create(HADOOP, 'hadoop', 1, 'debian')
    const address = fixedIp(server!)
    const rm = (await (await fetch(`http://${address}:8088/ws/v1/cluster/nodes`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(15_000)})).json()) as {nodes: {node: Array<{state: string; nodeHostName: string}>}}
    expect(rm.nodes.node.map((n) => [n.nodeHostName, n.state])).toEqual([[address, 'RUNNING']])
    const jmx = (await (await fetch(`http://${address}:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, {signal: AbortSignal.timeout(15_000)})).json()) as {beans: Array<{LiveNodes: string}>}
    expect(Object.keys(JSON.parse(jmx.beans[0]!.LiveNodes)).map((k) => k.replace(/:\d+$/, ''))).toEqual([address])
    await killAll(HADOOP)
  })

  it('kubernetes: create makes both servers Ready nodes at their fixed IPs, logged in as root, CoreDNS running; kill leaves nothing', async () => {
    const servers = await create(K8S, 'kubernetes', 2, 'root')
    const head = servers.find((s) => s.metadata?.['cms-role'] === 'head')!
    const layout = kubernetesLayout('/root', K8S)
    const kubectl = (...args: string[]) => docker('exec', hosts.container(head.id), 'sh', '-c', `$(ls -d /root/.cms/dist/*/bin | head -n 1)/kubectl --kubeconfig ${shq(layout.files.adminKubeconfig)} --cache-dir /var/tmp/kc ${shJoin(args)}`)
    const nodes = (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as {items: Array<{status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>}}>}).items
    expect(nodes.map((n) => [n.status.addresses.find((a) => a.type === 'InternalIP')?.address, n.status.conditions.find((c) => c.type === 'Ready')?.status]).sort()).toEqual(servers.map((s) => [fixedIp(s), 'True']).sort())
    await waitUntil('CoreDNS to run', async () => (await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={.items[*].status.phase}')) === 'Running', 120_000)
    await killAll(K8S)
  })
})
