import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parsePrerequisites, prerequisitesScript} from '../../src/engines/kubernetes/prerequisites.js'
import {cloudConfig} from '../../src/providers/cloud-config.js'
import {publishedKeyLine} from '../../src/providers/cluster-key.js'
import {generateEd25519} from '../../src/providers/ssh-keys.js'
import {cms, makeCmsHome} from './helpers.js'
import {lxdSocket} from './lxd-daemon.js'

// cms's VM image (scripts/lxd-vm-image.sh) booted by QEMU as LXD boots it, on any machine: UEFI firmware (OVMF),
// the disk behind virtio-scsi and grown to 10 GiB, the instance's cloud-init input on a 9p share named "config" laid
// out as LXD's config drive (cloud-init/meta-data, user-data, vendor-data), and its NIC on the tests' LXD bridge
// (scripts/lxd.sh: cmsbr0 in the cms-lxd namespace), where LXD's dnsmasq gives it an address this machine routes to.
// QEMU emulates the CPU (TCG), so it runs where KVM or LXD VMs do not (this machine: no vhost_vsock for LXD). Then
// cms makes it a Kubernetes node over SSH (-p ssh, as root). What this does not show: LXD itself (its config drive as
// it really writes it, its agent over vsock).
const IMAGE_DIR = process.env.CMS_LXD_VM_IMAGE_DIR
const OVMF = '/usr/share/OVMF'
const NAME = 'cms-vm-image-test'
const BOOT_TIMEOUT_MS = 900_000
const NETNS = process.env.CMS_LXD_NETNS ?? 'cms-lxd'
const BRIDGE = 'cmsbr0'
const TAP = 'cmsimgtap0'
const exec = promisify(execFile)

describe('cms\'s LXD VM image under QEMU (UEFI, an LXD-like config share)', () => {
  let dir = ''
  let address = ''
  let qemu: ChildProcess | undefined
  const mac = `52:54:00:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`
  const {home, cleanup} = makeCmsHome()
  const login = generateEd25519('cms-vm-image-test login')
  const hostKey = generateEd25519(NAME)

  /** ssh as root to the guest, trusting exactly the host key handed to cloud-init. */
  const ssh = async (script: string, timeoutMs = 60_000) =>
    (
      await exec(
        'ssh',
        ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${join(home, 'known_hosts')}`, '-o', 'ConnectTimeout=10', '-i', join(dir, 'login'), `root@${address}`, script],
        {timeout: timeoutMs},
      )
    ).stdout
  const serialTail = () => (existsSync(join(dir, 'serial.log')) ? readFileSync(join(dir, 'serial.log'), 'utf8').slice(-3000) : '(no serial output)')

  beforeAll(async () => {
    if (!IMAGE_DIR) throw new Error('CMS_LXD_VM_IMAGE_DIR is not set: run eval "$(bash scripts/lxd-vm-image.sh)" first')
    for (const f of ['qemu-system-x86_64', 'qemu-img']) await exec('sh', ['-c', `command -v ${f}`]).catch(() => Promise.reject(new Error(`${f} is missing: run scripts/lxd.sh --vm (it installs qemu-system-x86 and qemu-utils)`)))
    if (!existsSync(join(OVMF, 'OVMF_CODE.fd'))) throw new Error(`${OVMF}/OVMF_CODE.fd is missing: run scripts/lxd.sh --vm (it installs ovmf)`)
    dir = mkdtempSync(join(tmpdir(), 'cms-vm-image-'))
    // The config share as LXD writes it for an instance whose user.user-data is cms's (Kubernetes' root login).
    mkdirSync(join(dir, 'config', 'cloud-init'), {recursive: true})
    writeFileSync(join(dir, 'config', 'cloud-init', 'meta-data'), `instance-id: ${NAME}\nlocal-hostname: ${NAME}\n`)
    writeFileSync(join(dir, 'config', 'cloud-init', 'user-data'), cloudConfig({sshUser: 'root', hostKey, authorizedKey: login.public, packages: []}))
    writeFileSync(join(dir, 'config', 'cloud-init', 'vendor-data'), '#cloud-config\n{}\n')
    writeFileSync(join(dir, 'login'), login.private, {mode: 0o600})
    chmodSync(join(dir, 'login'), 0o600)
    writeFileSync(join(dir, 'vars.fd'), readFileSync(join(OVMF, 'OVMF_VARS.fd')))
    // A tap on the tests' LXD bridge, in its namespace, as LXD makes one for a VM's NIC.
    await exec('ip', ['-n', NETNS, 'link', 'del', TAP]).catch(() => undefined)
    await exec('ip', ['-n', NETNS, 'tuntap', 'add', 'dev', TAP, 'mode', 'tap'])
    await exec('ip', ['-n', NETNS, 'link', 'set', TAP, 'master', BRIDGE, 'up'])
    await exec('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(IMAGE_DIR, 'disk.qcow2'), '-F', 'qcow2', join(dir, 'disk.qcow2'), '10G'])
    const log = openSync(join(dir, 'qemu.log'), 'w')
    // 3 GiB: in emulation, the control plane, CoreDNS and the local-path provisioner on one VM of 2 GiB did not get
    // healthy in time (one run); 3 GiB did.
    // prettier-ignore
    qemu = spawn('ip', ['netns', 'exec', NETNS, 'qemu-system-x86_64',
      '-machine', 'q35,accel=tcg', '-cpu', 'max', '-smp', '2', '-m', '3072',
      '-drive', `if=pflash,format=raw,readonly=on,file=${join(OVMF, 'OVMF_CODE.fd')}`,
      '-drive', `if=pflash,format=raw,file=${join(dir, 'vars.fd')}`,
      '-device', 'virtio-scsi-pci,id=scsi', '-drive', `file=${join(dir, 'disk.qcow2')},if=none,id=root,format=qcow2`, '-device', 'scsi-hd,drive=root,bus=scsi.0',
      '-fsdev', `local,id=config,path=${join(dir, 'config')},security_model=none,readonly=on`, '-device', 'virtio-9p-pci,fsdev=config,mount_tag=config',
      '-netdev', `tap,id=net,ifname=${TAP},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=net,mac=${mac}`,
      '-display', 'none', '-serial', `file:${join(dir, 'serial.log')}`, '-monitor', 'none',
    ], {stdio: ['ignore', log, log]})
  }, 120_000)

  afterAll(async () => {
    if (qemu?.pid !== undefined && qemu.exitCode === null) {
      qemu.kill('SIGTERM')
      for (let i = 0; i < 50 && qemu.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100))
      if (qemu.exitCode === null) qemu.kill('SIGKILL')
    }
    await exec('ip', ['-n', NETNS, 'link', 'del', TAP]).catch(() => undefined)
    if (dir) rmSync(dir, {recursive: true, force: true})
    cleanup()
  })

  it('boots from the firmware, gets an address from the bridge\'s DHCP and answers SSH as root with exactly the host key cms handed to cloud-init', async () => {
    const started = Date.now()
    const leases = join(dirname(lxdSocket()), 'networks', BRIDGE, 'dnsmasq.leases')
    let last = ''
    for (let round = 0; round < 200 && Date.now() - started < BOOT_TIMEOUT_MS; round++) {
      if (qemu!.exitCode !== null) throw new Error(`QEMU exited (${qemu!.exitCode}): ${readFileSync(join(dir, 'qemu.log'), 'utf8')}\n${serialTail()}`)
      if (!address) {
        // dnsmasq's lease line: expiry MAC address hostname client-id.
        address = (existsSync(leases) ? readFileSync(leases, 'utf8') : '').split('\n').map((l) => l.split(' ')).find((f) => f[1] === mac)?.[2] ?? ''
        if (address) writeFileSync(join(home, 'known_hosts'), `${address} ${publishedKeyLine(hostKey.public)}\n`)
        else {
          await new Promise((r) => setTimeout(r, 5000))
          continue
        }
      }
      try {
        last = await ssh('true', 30_000)
        break
      } catch (error) {
        last = (error as Error).message
        await new Promise((r) => setTimeout(r, 5000))
      }
    }
    console.log(`VM image: SSH at ${address} after ${((Date.now() - started) / 1000).toFixed(0)} s (TCG)`)
    expect(address).toMatch(/^10\.214\.0\.\d+$/)
    expect(last, `${last}\n${serialTail()}`).toBe('')
  })

  it('cloud-init is done from the seed the config share gave (hostname, root login), the root filesystem fills the disk, eth0 has its DHCP address', async () => {
    const out = await ssh(
      [
        'cloud-init status --wait >/dev/null; cloud-init status | sed -n "s/^status: //p"',
        'hostname',
        'systemd-detect-virt --vm',
        'stat -c %a /var/lib/cloud/seed/nocloud-net',
        'systemctl is-active cms-lxd-seed',
        'findmnt -bno SIZE /',
        'ip -4 -o addr show eth0 | awk "{print \\$4}"',
        'systemctl is-enabled lxd-agent etcd containerd 2>&1 | tr "\\n" " "; echo',
      ].join('; '),
      600_000,
    )
    const [status, hostname, virt, seedMode, seed, rootBytes, ip, enabled] = out.trim().split('\n')
    expect([status, hostname, virt, seedMode, seed]).toEqual(['done', NAME, 'qemu', '700', 'active'])
    // growpart and resize2fs took the 2 GiB image's root partition to the 10 GiB disk.
    expect(Number(rootBytes)).toBeGreaterThan(8 * 1024 ** 3)
    expect(ip).toBe(`${address}/24`)
    // LXD's agent starts where LXD's virtio port is; Debian's etcd and containerd stay off (cms runs its own).
    expect(enabled!.trim().split(' ')).toEqual(['enabled', 'disabled', 'disabled'])
  })

  it('has everything a Kubernetes node needs that cms does not ship, as cms checks it', async () => {
    expect(parsePrerequisites(await ssh(prerequisitesScript({head: true})))).toEqual({missing: [], cniBinDir: '/usr/lib/cni'})
  })

  it('cms makes it a Ready Kubernetes node at its address (-p ssh, as root), with CoreDNS running; kill cleans it', async () => {
    for (const v of ['CMS_K8S_DIST', 'CMS_COREDNS_DIST', 'CMS_LOCAL_PATH_DIST']) if (!process.env[v]) throw new Error(`${v} is not set: run eval "$(bash scripts/testbed.sh --kubernetes)" first`)
    const env = {CMS_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
    const started = Date.now()
    const r = await cms(['cluster', 'create', '-n', 'vm-image-k8s', '-p', 'ssh', '-e', 'kubernetes', '-i', join(dir, 'login'), `root@${address}`, '--json'], env, {timeoutMs: 1_800_000})
    console.log(`VM image: Kubernetes created in ${((Date.now() - started) / 1000).toFixed(0)} s (TCG)`)
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0)
    expect(JSON.parse(r.stdout).cluster.health).toBe('healthy')
    // The API server's own view, asked on the node with the cluster's admin credentials (they stay there).
    const kubectl = `"$(ls -d /root/.cms/dist/*/bin | head -n 1)/kubectl" --kubeconfig "$(find /root/.cms/clusters/vm-image-k8s -name admin.kubeconfig | head -n 1)" --cache-dir /var/tmp/kc`
    const nodes = (JSON.parse(await ssh(`${kubectl} get nodes -o json`)) as {items: Array<{status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>}}>}).items
    expect(nodes.map((n) => [n.status.addresses.find((a) => a.type === 'InternalIP')?.address, n.status.conditions.find((c) => c.type === 'Ready')?.status])).toEqual([[address, 'True']])
    const pods = (JSON.parse(await ssh(`${kubectl} get pods -n kube-system -l k8s-app=kube-dns -o json`)) as {items: Array<{status: {phase: string}}>}).items
    expect(pods.map((p) => p.status.phase)).toEqual(['Running'])
    const killed = await cms(['cluster', 'kill', '-n', 'vm-image-k8s', '--yes'], env, {timeoutMs: 600_000})
    expect(killed.code, killed.stderr).toBe(0)
  })
})
