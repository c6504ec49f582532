import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {cidrContains} from '../../src/engines/kubernetes/network.js'
import {shJoin, shq} from '../../src/remote/shell.js'
import {clusterGroups, clusterInstances, clusterKeyPairs, emulatedNetwork, LIVE, startEmulator, tagsOf, type Emulator} from './aws-emulator.js'
import {VpcHosts} from './aws-vpc-hosts.js'
import {buildBusyboxImage, cms, docker, makeCmsHome, waitUntil} from './helpers.js'

// `create -p aws -e kubernetes` against the EC2 emulator. Kubelets refuse loopback node addresses, so the instances
// run on VpcHosts: the test's own Docker network, whose range is the emulated VPC's and subnet's, one Kubernetes-capable
// container per instance at exactly its PrivateIpAddress. The nodes' state is read from the Kubernetes API inside the
// VPC (kubectl on the head, with the cluster's admin kubeconfig), the rest from the EC2 API and Docker.
const NAME = process.env.CMS_E2E_AWS_K8S_NAME ?? 'e2e-aws-k8s'
const PREFIX = `cms-${NAME}`
const K8S_DIST = process.env.CMS_K8S_DIST
const BUSYBOX = `cms-e2e-busybox:${NAME}`

interface KubeNode {
  metadata: {name: string}
  status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>}
}

describe.skipIf(!K8S_DIST)('aws provider with kubernetes (EC2 emulator, hosts at the VPC addresses EC2 gives them)', () => {
  const {home, cleanup} = makeCmsHome()
  let emulator: Emulator
  let hosts: VpcHosts
  let env: Record<string, string>
  let subnetId = ''

  const head = async () => (await clusterInstances(emulator.ec2, NAME, LIVE)).find((i) => tagsOf(i)['cms-role'] === 'head')!
  /** kubectl on the head (the API server listens on its private address and loopback only), as the cluster's admin. */
  const kubectl = async (...args: string[]): Promise<string> => {
    const layout = kubernetesLayout('/root', NAME)
    const bin = `$(ls -d /root/.cms/dist/*/bin | head -n 1)/kubectl`
    return docker('exec', hosts.container((await head()).InstanceId!), 'sh', '-c', `${bin} --kubeconfig ${shq(layout.files.adminKubeconfig)} --cache-dir /var/tmp/kc ${shJoin(args)}`)
  }

  beforeAll(async () => {
    emulator = await startEmulator()
    hosts = new VpcHosts(emulator.ec2, PREFIX)
    await hosts.start()
    ;({subnetId} = await emulatedNetwork(emulator.ec2, hosts.range, hosts.range))
    // No Docker engine for cms but where the test loads an image: an aws cluster needs none.
    env = {...emulator.env, CMS_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
    await buildBusyboxImage(BUSYBOX)
  }, 600_000)

  afterAll(async () => {
    await cms(['cluster', 'kill', '-n', NAME, '--yes'], env).catch(() => undefined)
    await hosts?.stop()
    await emulator?.stop()
    await docker('rmi', BUSYBOX).catch(() => '')
    cleanup()
  })

  it('create makes both instances Ready nodes whose InternalIPs are the private addresses EC2 gave them', async () => {
    // Kubernetes' components run as the login user, so it is root (cloud-init lets the cluster key in as root).
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'aws', '-e', 'kubernetes', '--hosts', '2', '--subnet', subnetId, '--ssh-user', 'root', '--json'], env, {timeoutMs: 900_000})
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
    const overrides = JSON.stringify({spec: {nodeSelector: {'kubernetes.io/hostname': worker.InstanceId!.toLowerCase()}}})
    await kubectl('run', 'hello', `--image=${BUSYBOX}`, '--image-pull-policy=Never', '--restart=Never', `--overrides=${overrides}`, '--command', '--', 'sh', '-c', 'echo hello from $(hostname)')
    let phase = ''
    await waitUntil('the pod to finish', async () => {
      phase = await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}')
      return phase === 'Succeeded' || phase === 'Failed'
    }, 120_000)
    expect(phase).toBe('Succeeded')
    const pod = JSON.parse(await kubectl('get', 'pod', 'hello', '-o', 'json')) as {spec: {nodeName: string}; status: {hostIP: string; podIP: string}}
    expect(pod.spec.nodeName).toBe(worker.InstanceId!.toLowerCase())
    expect(pod.status.hostIP).toBe(worker.PrivateIpAddress)
    expect(await kubectl('logs', 'hello')).toBe('hello from hello')
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
