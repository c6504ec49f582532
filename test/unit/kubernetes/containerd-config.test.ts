import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderContainerdConfig} from '../../../src/engines/kubernetes/containerd-config.js'
import {kubernetesLayout} from '../../../src/engines/kubernetes/layout.js'

const layout = kubernetesLayout('/root', 'demo')
const input = {layout, sandboxImage: 'registry.k8s.io/pause:3.10'}

const containerd = (() => {
  try {
    execFileSync('containerd', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
})()

describe('containerd configuration', () => {
  it('has its own root, state and socket, the sandbox image, restricted oom_score_adj, cgroupfs, cms CNI folders', () => {
    const t = renderContainerdConfig(input)
    expect(t).toContain('version = 2\n')
    expect(t).toContain('root = "/var/lib/cms/demo/containerd"')
    expect(t).toContain('state = "/run/cms/demo/containerd"')
    expect(t).toContain('[grpc]\n  address = "/run/cms/demo/containerd/containerd.sock"')
    expect(t).toContain('  sandbox_image = "registry.k8s.io/pause:3.10"')
    expect(t).toContain('  restrict_oom_score_adj = true')
    expect(t).toContain('  SystemdCgroup = false')
    expect(t).toContain('  BinaryName = "/usr/sbin/runc"')
    expect(t).toContain('  bin_dir = "/usr/lib/cni"')
    expect(t).toContain(`  conf_dir = "${layout.cniConfDir}"`)
    expect(renderContainerdConfig({...input, cgroupDriver: 'systemd', restrictOomScoreAdj: false, disableApparmor: true})).toMatch(
      /restrict_oom_score_adj = false[\s\S]*disable_apparmor = true[\s\S]*SystemdCgroup = true/,
    )
  })

  it('refuses untagged or malformed images and relative paths', () => {
    expect(() => renderContainerdConfig({...input, sandboxImage: 'pause'})).toThrow(/tagged image/)
    expect(() => renderContainerdConfig({...input, sandboxImage: 'pause:3.10"\nx = 1'})).toThrow(/tagged image/)
    expect(() => renderContainerdConfig({...input, cniBinDir: 'cni'})).toThrow(/absolute/)
    expect(() => renderContainerdConfig({...input, runcBinary: '/usr/sbin/runc\n[x]'})).toThrow(/absolute/)
  })

  it.skipIf(!containerd)('is read by containerd itself with every setting in place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-containerd-'))
    try {
      const file = join(dir, 'config.toml')
      writeFileSync(file, renderContainerdConfig(input))
      const dump = execFileSync('containerd', ['--config', file, 'config', 'dump'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
      expect(dump).toMatch(/^root = "\/var\/lib\/cms\/demo\/containerd"$/m)
      expect(dump).toMatch(/^\s*sandbox_image = "registry.k8s.io\/pause:3.10"$/m)
      expect(dump).toMatch(/^\s*restrict_oom_score_adj = true$/m)
      expect(dump).toMatch(/^\s*conf_dir = "\/root\/.cms\/clusters\/demo\/kubernetes\/config\/cni"$/m)
      expect(dump).toMatch(/^\s*SystemdCgroup = false$/m)
      expect(dump).toMatch(/^\s*address = "\/run\/cms\/demo\/containerd\/containerd.sock"$/m)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
