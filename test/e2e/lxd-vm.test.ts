import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {shq} from '../../src/remote/shell.js'
import {aliveWorkers, cms, makeCmsHome, waitForAliveWorkers} from './helpers.js'
import {addressOf, clusterInstances, daemonInstanceTypes, deleteClusterInstances, lxdSocket} from './lxd-daemon.js'

// `-p lxd --vm` against the tests' LXD daemon (scripts/lxd.sh --vm, which says in CMS_LXD_VM whether the daemon runs
// virtual machines here). Which cases run is the daemon's answer, and each half checks that answer again through the
// LXD API: a daemon that runs VMs gets real ones (Spark on one, Kubernetes on two, asked through their own APIs); one
// that cannot (this machine's kernel has no vhost_vsock) refuses --vm in one line, exit 2, with nothing made.
const VM = process.env.CMS_LXD_VM
const SPARK = 'lxd-vm-spark'
const K8S = 'lxd-vm-k8s'

describe('lxd virtual machines (--vm)', () => {
  const {home, cleanup} = makeCmsHome()
  let env: Record<string, string>

  beforeAll(() => {
    if (VM !== '0' && VM !== '1') throw new Error('CMS_LXD_VM is not set: run eval "$(bash scripts/lxd.sh --vm)" first')
    // No Docker engine for cms: an lxd cluster needs none.
    env = {CMS_HOME: home, CMS_LXD_SOCKET: lxdSocket(), DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
  })

  afterAll(async () => {
    await deleteClusterInstances(SPARK)
    await deleteClusterInstances(K8S)
    cleanup()
  })

  const nothingMade = async (cluster: string) => {
    expect(await clusterInstances(cluster)).toEqual([])
    expect(existsSync(join(home, 'keys', cluster))).toBe(false)
  }

  it('--vm with another provider is refused before anything is made', async () => {
    const docker = await cms(['cluster', 'create', '-n', K8S, '--vm'], env)
    expect(docker.code).toBe(2)
    expect(docker.stderr).toContain('--vm: only for the lxd provider (-p lxd)')
    await nothingMade(K8S)
  })

  describe.runIf(VM === '0')('a daemon that cannot run virtual machines here', () => {
    it('says so itself, and create --vm is refused in one line naming the daemon, exit 2, with nothing made', async () => {
      expect(await daemonInstanceTypes()).toEqual(['container'])
      for (const args of [['-n', SPARK, '--hosts', '1'], ['-n', K8S, '-e', 'kubernetes', '--hosts', '2']]) {
        const r = await cms(['cluster', 'create', '-p', 'lxd', '--vm', ...args], env)
        expect(r.code, r.stderr).toBe(2)
        expect(r.stderr).toContain(`--vm: the LXD daemon at ${lxdSocket()} cannot run virtual machines (it runs container instances only; VMs need /dev/kvm, the vhost_vsock module, QEMU and OVMF on its machine)`)
        await nothingMade(args[1]!)
      }
    })
  })

  describe.runIf(VM === '1')('a daemon that runs virtual machines', () => {
    beforeAll(async () => {
      expect(await daemonInstanceTypes()).toContain('virtual-machine')
    })

    it('spark: create --vm makes a running virtual machine, trusted by the host key cms made, whose worker joins; kill leaves no instance', async () => {
      const started = Date.now()
      const r = await cms(['cluster', 'create', '-n', SPARK, '-p', 'lxd', '--vm', '--hosts', '1', '--cpus', '1', '--memory', '1536MiB', '--json'], env)
      console.log(`create -p lxd --vm --hosts 1 (spark): ${((Date.now() - started) / 1000).toFixed(1)} s`)
      expect(r.code, r.stderr).toBe(0)
      const [head] = await clusterInstances(SPARK)
      expect([head!.type, head!.status, head!.config['user.cms.role'], head!.config['user.cms.ssh-user'], head!.config['security.secureboot']]).toEqual(['virtual-machine', 'Running', 'head', 'admin', 'false'])
      expect(r.stderr).not.toContain('Recorded host key')
      expect(readFileSync(join(home, 'known_hosts'), 'utf8')).toContain(`${addressOf(head!)} ${head!.config['user.cms.host-key']}\n`)
      expect(aliveWorkers(await waitForAliveWorkers(addressOf(head!), 1))).toEqual([addressOf(head!)])
      // A kernel of its own: systemd sees a VM, and its hostname is the instance's (from LXD's meta-data).
      const run = await cms(['cluster', 'run', '-n', SPARK, '--json', '--', 'sh', '-c', 'systemd-detect-virt --vm; cat /etc/hostname'], env)
      expect(run.code, run.stderr).toBe(0)
      const [host] = (JSON.parse(run.stdout) as {hosts: Array<{stdout: string}>}).hosts
      expect(host!.stdout.trim().split('\n')).toEqual(['kvm', head!.name])
      expect((await cms(['cluster', 'kill', '-n', SPARK, '--yes'], env)).code).toBe(0)
      await nothingMade(SPARK)
    })

    it('kubernetes: create --vm logs in as root and makes both VMs Ready nodes at the addresses LXD reports; kill leaves no instance', async () => {
      const started = Date.now()
      const r = await cms(['cluster', 'create', '-n', K8S, '-p', 'lxd', '--vm', '-e', 'kubernetes', '--hosts', '2', '--cpus', '1', '--memory', '2GiB', '--json'], env)
      console.log(`create -p lxd --vm -e kubernetes --hosts 2: ${((Date.now() - started) / 1000).toFixed(1)} s`)
      expect(r.code, r.stderr).toBe(0)
      const instances = await clusterInstances(K8S)
      expect(instances.map((i) => [i.type, i.status, i.config['user.cms.role'], i.config['user.cms.engine'], i.config['user.cms.ssh-user']])).toEqual([
        ['virtual-machine', 'Running', 'head', 'kubernetes', 'root'],
        ['virtual-machine', 'Running', 'worker', 'kubernetes', 'root'],
      ])
      // The API server's own list of nodes, asked with the cluster's admin credentials on the head (they stay there).
      const kubeconfig = kubernetesLayout('/root', K8S).files.adminKubeconfig
      const kubectl = `k=${shq(kubeconfig)}; [ -f "$k" ] || exit 0; "$(ls -d /root/.cms/dist/*/bin | head -n 1)/kubectl" --kubeconfig "$k" --cache-dir /var/tmp/kc get nodes -o json`
      const run = await cms(['cluster', 'run', '-n', K8S, '--json', '--', 'sh', '-c', kubectl], env)
      expect(run.code, run.stderr).toBe(0)
      const onHead = (JSON.parse(run.stdout) as {hosts: Array<{host: string; stdout: string}>}).hosts.find((h) => h.host === instances[0]!.name)!
      const nodes = (JSON.parse(onHead.stdout) as {items: Array<{metadata: {name: string}; status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>}}>}).items
      expect(nodes.map((n) => n.metadata.name).sort()).toEqual(instances.map((i) => i.name).sort())
      for (const n of nodes) {
        expect(n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'), n.metadata.name).toBe(true)
        const instance = instances.find((i) => i.name === n.metadata.name)!
        expect(n.status.addresses.find((a) => a.type === 'InternalIP')?.address).toBe(addressOf(instance))
      }
      expect((await cms(['cluster', 'kill', '-n', K8S, '--yes'], env)).code).toBe(0)
      await nothingMade(K8S)
    })
  })
})
