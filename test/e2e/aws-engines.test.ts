import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {cidrContains} from '../../src/engines/kubernetes/network.js'
import {shJoin, shq} from '../../src/remote/shell.js'
import {clusterGroups, clusterInstances, clusterKeyPairs, emulatedNetwork, LIVE, startEmulator, tagsOf, type Emulator} from './aws-emulator.js'
import {VpcHosts} from './vpc-hosts.js'
import {ec2Machines} from './aws-loopback-hosts.js'
import {buildBusyboxImage, cms, docker, makeCmsHome, runPinnedPod, waitUntil} from './helpers.js'

// Every engine but Spark (aws-provider.test.ts) created with `-p aws` against the EC2 emulator. Kubelets refuse
// loopback node addresses, so the instances run on VpcHosts: the test's own Docker network, whose range is the
// emulated VPC's and subnet's, one Kubernetes-capable container per instance at exactly its PrivateIpAddress. Each
// engine's state is read from its own API inside the VPC, the rest from the EC2 API and Docker.
const BASE = process.env.CMS_E2E_AWS_NAME ?? 'e2e-aws'
const NAME = `${BASE}-k8s`
const NOMAD = `${BASE}-nomad`
const HADOOP = `${BASE}-hadoop`
const PREFIX = `cms-${BASE}`
const K8S_DIST = process.env.CMS_K8S_DIST
const BUSYBOX = `cms-e2e-busybox:${NAME}`

interface KubeNode {
  metadata: {name: string}
  status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>}
}

let emulator: Emulator
let hosts: VpcHosts
let subnetId = ''

beforeAll(async () => {
  emulator = await startEmulator()
  hosts = new VpcHosts(ec2Machines(emulator.ec2), PREFIX)
  await hosts.start()
  ;({subnetId} = await emulatedNetwork(emulator.ec2, hosts.range, hosts.range))
}, 600_000)

afterAll(async () => {
  await hosts?.stop()
  await emulator?.stop()
})

/** The emulator's environment for cms, with a CMS_HOME of its own and no Docker engine (an aws cluster needs none). */
const awsEnv = (home: string) => ({...emulator.env, CMS_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'})

describe.skipIf(!K8S_DIST)('aws provider with kubernetes (EC2 emulator, hosts at the VPC addresses EC2 gives them)', () => {
  const {home, cleanup} = makeCmsHome()
  let env: Record<string, string>

  const head = async () => (await clusterInstances(emulator.ec2, NAME, LIVE)).find((i) => tagsOf(i)['cms-role'] === 'head')!
  /** kubectl on the head (the API server listens on its private address and loopback only), as the cluster's admin. */
  const kubectl = async (...args: string[]): Promise<string> => {
    const layout = kubernetesLayout('/root', NAME)
    const bin = `$(ls -d /root/.cms/dist/*/bin | head -n 1)/kubectl`
    return docker('exec', hosts.container((await head()).InstanceId!), 'sh', '-c', `${bin} --kubeconfig ${shq(layout.files.adminKubeconfig)} --cache-dir /var/tmp/kc ${shJoin(args)}`)
  }

  beforeAll(async () => {
    env = awsEnv(home)
    await buildBusyboxImage(BUSYBOX)
  }, 600_000)

  afterAll(async () => {
    await cms(['cluster', 'kill', '-n', NAME, '--yes'], env).catch(() => undefined)
    await docker('rmi', BUSYBOX).catch(() => '')
    cleanup()
  })

  it('create makes both instances Ready nodes whose InternalIPs are the private addresses EC2 gave them', async () => {
    // Kubernetes' components run as the login user, so it is root (cloud-init lets the cluster key in as root).
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'aws', '-e', 'kubernetes', '--hosts', '2', '--subnet', subnetId, '--json'], env, {timeoutMs: 900_000})
    expect(hosts.errors).toEqual([])
    expect(r.code, r.stderr).toBe(0)
    const instances = await clusterInstances(emulator.ec2, NAME, LIVE)
    expect(instances.map((i) => [tagsOf(i)['cms-role'], tagsOf(i)['cms-engine'], tagsOf(i)['cms-ssh-user']]).sort()).toEqual([
      ['head', 'kubernetes', 'root'],
      ['worker', 'kubernetes', 'root'],
    ])
    const addresses = instances.map((i) => i.PrivateIpAddress!)
    expect(instances.every((i) => i.SubnetId === subnetId && cidrContains(hosts.range, `${i.PrivateIpAddress}/32`))).toBe(true)
    // Each instance is the container at its address, which no host key but the one cms made and tagged opens.
    const knownHosts = readFileSync(join(home, 'known_hosts'), 'utf8')
    for (const i of instances) {
      expect(await docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${PREFIX}-vpc").IPAddress}}`, hosts.container(i.InstanceId!))).toBe(i.PrivateIpAddress)
      expect(knownHosts).toContain(`${i.PrivateIpAddress} ${tagsOf(i)['cms-host-key']}\n`)
    }

    const nodes = (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as {items: KubeNode[]}).items
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(instances.map((i) => i.InstanceId!.toLowerCase()).sort())
    for (const n of nodes) {
      expect(n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'), n.metadata.name).toBe(true)
      const instance = instances.find((i) => i.InstanceId!.toLowerCase() === n.metadata.name)!
      expect(n.status.addresses.find((a) => a.type === 'InternalIP')?.address).toBe(instance.PrivateIpAddress)
    }
    expect(nodes.map((n) => n.status.addresses.find((a) => a.type === 'InternalIP')?.address).sort()).toEqual([...addresses].sort())
  })

  it('a pod from an image cms loaded into the nodes runs to completion on the worker', async () => {
    // image load reads the image from this machine's Docker engine (the test's own).
    const {DOCKER_HOST: _none, ...withDocker} = env
    const loaded = await cms(['image', 'load', '-n', NAME, BUSYBOX], withDocker, {timeoutMs: 300_000})
    expect(loaded.code, loaded.stderr).toBe(0)
    await waitUntil('the default service account', async () => (await kubectl('get', 'serviceaccount', 'default', '-o', 'name')) === 'serviceaccount/default', 60_000)
    const worker = (await clusterInstances(emulator.ec2, NAME, LIVE)).find((i) => tagsOf(i)['cms-role'] === 'worker')!
    const pod = await runPinnedPod(kubectl, {node: worker.InstanceId!.toLowerCase(), image: BUSYBOX, script: 'echo hello from $(hostname)'})
    expect(pod.phase).toBe('Succeeded')
    expect(pod.nodeName).toBe(worker.InstanceId!.toLowerCase())
    expect(pod.hostIP).toBe(worker.PrivateIpAddress)
    expect(pod.logs).toBe('hello from hello')
  })

  it('kill leaves no instance, security group, key pair or container', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes', '--json'], env, {timeoutMs: 300_000})
    expect(r.code, r.stderr).toBe(0)
    const all = await clusterInstances(emulator.ec2, NAME)
    expect(all).toHaveLength(2)
    expect(all.filter((i) => i.State?.Name !== 'terminated')).toEqual([])
    expect(await clusterGroups(emulator.ec2, NAME)).toEqual([])
    expect(await clusterKeyPairs(emulator.ec2, NAME)).toEqual([])
    // The harness gives a terminated instance's container back within a tick of seeing it terminated.
    await waitUntil('the instances\' containers to go', async () => (await hosts.containers()).length === 0, 30_000)
    expect(hosts.errors).toEqual([])
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })
})

// The engines that also run as an ordinary login user (cloud-init's default, admin), one host each (the head runs
// the engine's workers too): created once, asked through their own APIs inside the VPC, killed.
describe('aws provider with nomad and hadoop (one host each, as admin)', () => {
  const {home, cleanup} = makeCmsHome()
  let env: Record<string, string>

  beforeAll(() => {
    for (const v of ['CMS_NOMAD_DIST', 'CMS_HADOOP_DIST']) if (!process.env[v]) throw new Error(`${v} is not set: run eval "$(bash scripts/testbed.sh --nomad --hadoop)" first`)
    env = awsEnv(home)
  })

  afterAll(async () => {
    for (const name of [NOMAD, HADOOP]) await cms(['cluster', 'kill', '-n', name, '--yes'], env).catch(() => undefined)
    cleanup()
  })

  /** Creates a 1-host cluster of `engine`, returns its instance (running, tagged with the engine). */
  const createOne = async (name: string, engine: string) => {
    const r = await cms(['cluster', 'create', '-n', name, '-p', 'aws', '-e', engine, '--hosts', '1', '--subnet', subnetId], env)
    expect(hosts.errors).toEqual([])
    expect(r.code, r.stderr).toBe(0)
    const instances = await clusterInstances(emulator.ec2, name, LIVE)
    expect(instances.map((i) => [i.State?.Name, tagsOf(i)['cms-engine'], tagsOf(i)['cms-ssh-user']])).toEqual([['running', engine, 'admin']])
    return instances[0]!
  }
  /** kill leaves no instance running and no container. */
  const killAll = async (name: string) => {
    expect((await cms(['cluster', 'kill', '-n', name, '--yes'], env)).code).toBe(0)
    expect(await clusterInstances(emulator.ec2, name, LIVE)).toEqual([])
    await waitUntil('the instance\'s container to go', async () => (await hosts.containers()).length === 0, 30_000)
  }

  it('nomad: create makes an instance whose Nomad client is ready at its private address; kill leaves nothing', async () => {
    const instance = await createOne(NOMAD, 'nomad')
    const address = instance.PrivateIpAddress!
    // Nomad's API as the instance itself sees it (curl there, with the cluster's TLS files and management token).
    const dir = `/home/admin/.cms/clusters/${NOMAD}/nomad`
    const out = await docker('exec', hosts.container(instance.InstanceId!), 'sh', '-c', `curl -sf --cacert ${dir}/tls/ca.pem --cert ${dir}/secrets/cli.pem --key ${dir}/secrets/cli-key.pem --resolve server.global.nomad:4646:${address} -H "X-Nomad-Token: $(cat ${dir}/secrets/management.token)" https://server.global.nomad:4646/v1/nodes`)
    const nodes = JSON.parse(out) as Array<{Address: string; Status: string}>
    expect(nodes.map((n) => [n.Address, n.Status])).toEqual([[address, 'ready']])
    await killAll(NOMAD)
  })

  it('hadoop: create makes an instance whose NodeManager and DataNode are live at its private address; kill leaves nothing', async () => {
    const instance = await createOne(HADOOP, 'hadoop')
    const address = instance.PrivateIpAddress!
    const rm = JSON.parse(await hosts.fetchInside(instance.InstanceId!, `http://${address}:8088/ws/v1/cluster/nodes`)) as {nodes: {node: Array<{state: string; nodeHostName: string}>}}
    expect(rm.nodes.node.map((n) => [n.nodeHostName, n.state])).toEqual([[address, 'RUNNING']])
    const jmx = JSON.parse(await hosts.fetchInside(instance.InstanceId!, `http://${address}:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`)) as {beans: Array<{LiveNodes: string}>}
    expect(Object.keys(JSON.parse(jmx.beans[0]!.LiveNodes)).map((k) => k.replace(/:\d+$/, ''))).toEqual([address])
    await killAll(HADOOP)
  })
})
