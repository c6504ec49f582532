import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parsePrerequisites, prerequisitesScript} from '../../src/engines/kubernetes/prerequisites.js'
import {cloudConfig} from '../../src/providers/cloud-config.js'
import {publishedKeyLine} from '../../src/providers/cluster-key.js'
import {generateEd25519} from '../../src/providers/ssh-keys.js'

// cms's VM image (scripts/lxd-vm-image.sh) booted by QEMU as LXD boots it, on any machine: UEFI firmware (OVMF),
// the disk behind virtio-scsi and grown to 10 GiB, and the instance's cloud-init input on a 9p share named "config"
// laid out as LXD's config drive (cloud-init/meta-data, user-data, vendor-data). QEMU emulates the CPU (TCG), so it
// runs where KVM or LXD VMs do not (this machine: no vhost_vsock for LXD). The guest's network is QEMU's user-mode
// network restricted to this machine, with its SSH forwarded to a loopback port. What this does not show: LXD itself
// (its config drive as it really writes it, its agent over vsock, its bridge).
const IMAGE_DIR = process.env.CMS_LXD_VM_IMAGE_DIR
const OVMF = '/usr/share/OVMF'
const NAME = 'cms-vm-image-test'
const BOOT_TIMEOUT_MS = 900_000
const exec = promisify(execFile)

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

describe('cms\'s LXD VM image under QEMU (UEFI, an LXD-like config share)', () => {
  let dir = ''
  let port = 0
  let qemu: ChildProcess | undefined
  const login = generateEd25519('cms-vm-image-test login')
  const hostKey = generateEd25519(NAME)

  /** ssh as root to the guest, trusting exactly the host key handed to cloud-init. */
  const ssh = async (script: string, timeoutMs = 60_000) =>
    (
      await exec(
        'ssh',
        ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'ConnectTimeout=10', '-i', join(dir, 'login'), '-p', String(port), 'root@127.0.0.1', script],
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
    port = await freeLoopbackPort()
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${publishedKeyLine(hostKey.public)}\n`)
    writeFileSync(join(dir, 'vars.fd'), readFileSync(join(OVMF, 'OVMF_VARS.fd')))
    await exec('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(IMAGE_DIR, 'disk.qcow2'), '-F', 'qcow2', join(dir, 'disk.qcow2'), '10G'])
    const log = openSync(join(dir, 'qemu.log'), 'w')
    // prettier-ignore
    qemu = spawn('qemu-system-x86_64', [
      '-machine', 'q35,accel=tcg', '-cpu', 'max', '-smp', '2', '-m', '1536',
      '-drive', `if=pflash,format=raw,readonly=on,file=${join(OVMF, 'OVMF_CODE.fd')}`,
      '-drive', `if=pflash,format=raw,file=${join(dir, 'vars.fd')}`,
      '-device', 'virtio-scsi-pci,id=scsi', '-drive', `file=${join(dir, 'disk.qcow2')},if=none,id=root,format=qcow2`, '-device', 'scsi-hd,drive=root,bus=scsi.0',
      '-fsdev', `local,id=config,path=${join(dir, 'config')},security_model=none,readonly=on`, '-device', 'virtio-9p-pci,fsdev=config,mount_tag=config',
      '-netdev', `user,id=net,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`, '-device', 'virtio-net-pci,netdev=net',
      '-display', 'none', '-serial', `file:${join(dir, 'serial.log')}`, '-monitor', 'none',
    ], {stdio: ['ignore', log, log]})
  }, 120_000)

  afterAll(async () => {
    if (qemu?.pid !== undefined && qemu.exitCode === null) {
      qemu.kill('SIGTERM')
      for (let i = 0; i < 50 && qemu.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100))
      if (qemu.exitCode === null) qemu.kill('SIGKILL')
    }
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('boots from the firmware and answers SSH as root with exactly the host key cms handed to cloud-init', async () => {
    const started = Date.now()
    let last = ''
    for (let round = 0; round < 200 && Date.now() - started < BOOT_TIMEOUT_MS; round++) {
      if (qemu!.exitCode !== null) throw new Error(`QEMU exited (${qemu!.exitCode}): ${readFileSync(join(dir, 'qemu.log'), 'utf8')}\n${serialTail()}`)
      try {
        last = await ssh('true', 30_000)
        break
      } catch (error) {
        last = (error as Error).message
        await new Promise((r) => setTimeout(r, 5000))
      }
    }
    console.log(`VM image: SSH after ${((Date.now() - started) / 1000).toFixed(0)} s (TCG)`)
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
    const [status, hostname, virt, seedMode, seed, rootBytes, address, enabled] = out.trim().split('\n')
    expect([status, hostname, virt, seedMode, seed]).toEqual(['done', NAME, 'qemu', '700', 'active'])
    // growpart and resize2fs took the 2 GiB image's root partition to the 10 GiB disk.
    expect(Number(rootBytes)).toBeGreaterThan(8 * 1024 ** 3)
    expect(address).toBe('10.0.2.15/24')
    // LXD's agent starts where LXD's virtio port is; Debian's etcd and containerd stay off (cms runs its own).
    expect(enabled!.trim().split(' ')).toEqual(['enabled', 'disabled', 'disabled'])
  })

  it('has everything a Kubernetes node needs that cms does not ship, as cms checks it', async () => {
    expect(parsePrerequisites(await ssh(prerequisitesScript({head: true})))).toEqual({missing: [], cniBinDir: '/usr/lib/cni'})
  })
})
