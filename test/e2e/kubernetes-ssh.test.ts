import {execFile} from 'node:child_process'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {nodeContainerRunArgs} from '../../src/engines/kubernetes/node-container.js'
import {leftoverScript} from '../../src/engines/kubernetes/scripts.js'
import {cms, docker, makeCmsHome, startPlainHosts} from './helpers.js'

/**
 * Kubernetes on hosts cms did not make (plain SSH hosts: containers of images/k8s-host, which carry containerd, runc,
 * the CNI plugins, busybox and etcd from Debian): create, then kill, which must leave no process, mount, network namespace,
 * interface, iptables rule, cgroup or file of the cluster on them. A host without the packages is refused by name.
 */
const NAME = process.env.CMS_E2E_K8S_SSH_NAME ?? 'e2e-k8s-ssh'
const PREFIX = `cms-${NAME}`
const run = promisify(execFile)

describe.skipIf(!process.env.CMS_K8S_DIST)('kubernetes engine on plain SSH hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const key = join(home, 'id_ed25519')
  const env = {CMS_HOME: home}
  let ips: string[] = []
  let names: string[] = []
  let removeHosts = async () => {}
  let bare: Awaited<ReturnType<typeof startPlainHosts>> | undefined

  beforeAll(async () => {
    ;({names, ips, cleanup: removeHosts} = await startPlainHosts(PREFIX, 2, key, nodeContainerRunArgs(), {imageVariant: 'k8s-host'}))
  }, 300_000)

  afterAll(async () => {
    await removeHosts()
    await bare?.cleanup()
    cleanup()
  })

  it('refuses a host without containerd and the CNI plugins, naming the packages, and starts nothing', async () => {
    bare = await startPlainHosts(`${PREFIX}-bare`, 1, join(home, 'id_bare'))
    const r = await cms(['cluster', 'create', '-n', `${NAME}-bare`, '-p', 'ssh', '-e', 'kubernetes', '-i', join(home, 'id_bare'), `root@${bare.ips[0]}`], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/lacks containerd, ctr, runc, CNI bridge plugin.*: install containerd runc containernetworking-plugins iptables catatonit busybox-static etcd-server/)
    expect(await docker('exec', bare.names[0]!, 'sh', '-c', 'pgrep -c -f "[k]ube|[e]tcd|[c]ontainerd" || true')).toBe('0')
    await cms(['cluster', 'kill', '-n', `${NAME}-bare`, '--yes'], env)
  })

  it('create makes both hosts Ready nodes, as the API on the head reports, with the kernel settings pods need', async () => {
    // As on a fresh cloud image (br_netfilter's setting off, no forwarding); each host container has its own.
    const settings = 'cat /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/ipv4/ip_forward | tr "\\n" " "'
    for (const name of names) {
      await docker('exec', name, 'sh', '-c', 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables && echo 0 > /proc/sys/net/ipv4/ip_forward')
      expect(await docker('exec', name, 'sh', '-c', settings)).toBe('0 0')
    }
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'ssh', '-e', 'kubernetes', '-i', key, ...ips.map((ip) => `root@${ip}`), '--json'], env, {timeoutMs: 600_000})
    expect(r.code, r.stderr).toBe(0)
    const layout = kubernetesLayout('/root', NAME)
    const kubectl = `$(ls -d /root/.cms/dist/*/bin | head -n 1)/kubectl --kubeconfig ${layout.files.adminKubeconfig} --cache-dir /var/tmp/kc`
    const nodes = JSON.parse(await docker('exec', names[0]!, 'sh', '-c', `${kubectl} get nodes -o json`)) as {items: Array<{status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>}}>}
    expect(nodes.items.map((n) => n.status.addresses.find((a) => a.type === 'InternalIP')?.address).sort()).toEqual([...ips].sort())
    expect(nodes.items.every((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true)
    for (const name of names) expect(await docker('exec', name, 'sh', '-c', settings), name).toBe('1 1')
    await docker('exec', names[0]!, 'rm', '-rf', '/var/tmp/kc')
  })

  it('kill leaves nothing of the cluster on the hosts', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env, {timeoutMs: 300_000})
    expect(r.code, r.stderr).toBe(0)
    const leftovers = leftoverScript(kubernetesLayout('/root', NAME))
    for (const name of names) {
      const {stdout} = await run('docker', ['exec', name, 'bash', '-c', leftovers])
      const counts = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ')))
      expect(counts, name).toEqual({processes: '0', mounts: '0', netns: '0', bridge: '0', iptables: '0', cgroups: '0', folders: '0', files: '0'})
      expect(await docker('exec', name, 'sh', '-c', 'test -e /root/.cms && echo left || echo clean')).toBe('clean')
      expect(await docker('exec', name, 'sh', '-c', 'ip -4 route show | grep -c "^10\\.244\\." || true')).toBe('0')
    }
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })
})
