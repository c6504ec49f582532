import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'
import {generateEd25519} from '../../src/providers/ssh-keys.js'
import {cloudConfig, readCloudConfig, WAIT_FOR_CLOUD_INIT} from '../../src/providers/cloud-config.js'

describe('aws user data (cloud-config)', () => {
  const hostKey = generateEd25519('cms-demo-1')
  const authorizedKey = generateEd25519('cms-demo').public

  it('installs the host key cms made, lets the cluster key in as the default user, installs the packages', () => {
    const text = cloudConfig({sshUser: 'admin', hostKey, authorizedKey, packages: ['openjdk-17-jre-headless', 'python3']})
    expect(text.startsWith('#cloud-config\n')).toBe(true)
    const doc = parse(text)
    expect(doc.system_info).toEqual({default_user: {name: 'admin'}})
    expect(doc.ssh_deletekeys).toBe(true)
    expect(doc.ssh_genkeytypes).toEqual([])
    expect(doc.ssh_keys.ed25519_private).toBe(hostKey.private.endsWith('\n') ? hostKey.private : `${hostKey.private}\n`)
    expect(doc.ssh_keys.ed25519_public).toBe(hostKey.public.trim())
    expect(doc.ssh_authorized_keys).toEqual([authorizedKey.trim()])
    expect(doc.package_update).toBe(true)
    expect(doc.packages).toEqual(['openjdk-17-jre-headless', 'python3'])
    // EC2's limit on user data.
    expect(Buffer.byteLength(text)).toBeLessThan(16 * 1024)
  })

  it('locks root out unless root is the login user (cloud-init would give root\'s key a "log in as" command)', () => {
    expect(parse(cloudConfig({sshUser: 'admin', hostKey, authorizedKey, packages: []})).disable_root).toBe(true)
    expect(parse(cloudConfig({sshUser: 'root', hostKey, authorizedKey, packages: []})).disable_root).toBe(false)
  })

  it('reads back what it wrote (the test hosts boot from it)', () => {
    const b = {sshUser: 'cms', hostKey, authorizedKey, packages: []}
    const back = readCloudConfig(cloudConfig(b))
    expect(back).toEqual({sshUser: 'cms', hostKey: {private: expect.stringContaining('OPENSSH PRIVATE KEY'), public: hostKey.public.trim()}, authorizedKey: authorizedKey.trim(), packages: []})
    expect(back.hostKey.private.trim()).toBe(hostKey.private.trim())
    expect(parse(cloudConfig(b)).packages).toBeUndefined()
  })

  it('keeps odd values inside their field (YAML written by a library)', () => {
    const text = cloudConfig({sshUser: 'admin', hostKey, authorizedKey: 'ssh-ed25519 AAAA x\nruncmd: [reboot]', packages: ['a: b']})
    const doc = parse(text)
    expect(doc.runcmd).toBeUndefined()
    expect(doc.ssh_authorized_keys).toEqual(['ssh-ed25519 AAAA x\nruncmd: [reboot]'])
    expect(doc.packages).toEqual(['a: b'])
  })

  it('refuses user data that is not cms cloud-config', () => {
    expect(() => readCloudConfig('#!/bin/sh\necho hi\n')).toThrow(/not a cloud-config/)
    expect(() => readCloudConfig('#cloud-config\npackages: [x]\n')).toThrow(/no host key/)
  })

  it('waits for cloud-init only where there is one, and fails on its errors', () => {
    expect(WAIT_FOR_CLOUD_INIT).toContain('command -v cloud-init >/dev/null 2>&1 || exit 0')
    expect(WAIT_FOR_CLOUD_INIT).toContain('cloud-init status --wait')
    expect(WAIT_FOR_CLOUD_INIT).toMatch(/exit 1/)
  })
})
