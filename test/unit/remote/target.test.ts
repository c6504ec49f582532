import {mkdtempSync, writeFileSync} from 'node:fs'
import {homedir, tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../../src/remote/errors.js'
import {parseHostSpec, resolveTarget, targetLabel} from '../../../src/remote/target.js'

describe('parseHostSpec', () => {
  it.each([
    ['host', {host: 'host'}],
    ['10.0.0.5', {host: '10.0.0.5'}],
    ['alice@10.0.0.5', {user: 'alice', host: '10.0.0.5'}],
    ['alice@node-1.example.com:2222', {user: 'alice', host: 'node-1.example.com', port: 2222}],
    ['host:22', {host: 'host', port: 22}],
    ['[::1]:2222', {host: '::1', port: 2222}],
    ['[::1]', {host: '::1'}],
    ['user@[fe80::1]:22', {user: 'user', host: 'fe80::1', port: 22}],
    ['fe80::1', {host: 'fe80::1'}],
    ['[fe80::1%eth0]:22', {host: 'fe80::1%eth0', port: 22}],
    ['ec2-user@my_alias', {user: 'ec2-user', host: 'my_alias'}],
  ])('%s', (spec, want) => {
    expect(parseHostSpec(spec)).toEqual(want)
  })

  it.each([
    '',
    '   ',
    'a;rm -rf /',
    '$(x)',
    '`id`',
    'a b',
    'host\n',
    'host|cat',
    'host&',
    'user@',
    '@host',
    'host:',
    'host:0',
    'host:65536',
    'host:22x',
    'host:-1',
    '-oProxyCommand=x',
    'user@-host',
    '-l@host',
    '[::1',
    '[::1]x',
    '[notipv6]:22',
    '[1.2.3.4]:22',
    'a@b@c',
    "o'brien@host",
    'host\\x',
    'ho*st',
    '1:2:3:zz',
  ])('rejects %j', (spec) => {
    expect(() => parseHostSpec(spec)).toThrow(UsageError)
  })
})

describe('resolveTarget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-target-'))
  const key = join(dir, 'key_for_gpu')
  writeFileSync(key, 'not really a key')
  const config = join(dir, 'config')
  writeFileSync(
    config,
    [
      'Host gpu',
      '  HostName 192.168.7.20',
      '  User ubuntu',
      '  Port 2201',
      `  IdentityFile ${join(dir, 'key_for_%h')}`,
      '',
      'Host *.lab',
      '  HostName %h.internal',
      '  User labuser',
      '  IdentityFile ~/definitely-missing-key-for-%r',
      '',
      'Host evil',
      '  HostName "bad;name"',
      '',
    ].join('\n'),
  )

  it('maps an alias to HostName, User, Port and IdentityFile (with %h expansion)', () => {
    const t = resolveTarget('gpu', {sshConfigPath: config})
    // %h expands to the resolved HostName, so the key path is key_for_192.168.7.20, which does not exist
    expect(t).toMatchObject({host: '192.168.7.20', user: 'ubuntu', port: 2201, alias: 'gpu'})
    expect(t.identityFiles).not.toContain(join(dir, 'key_for_192.168.7.20'))
  })

  it('explicit spec values win over the config; -i is tried first', () => {
    const t = resolveTarget('root@gpu:22', {sshConfigPath: config, identityFile: key})
    expect(t).toMatchObject({host: '192.168.7.20', user: 'root', port: 22})
    expect(t.identityFiles[0]).toBe(key)
  })

  it('expands %h in HostName and applies wildcard sections', () => {
    const t = resolveTarget('n1.lab', {sshConfigPath: config, defaultUser: 'nobody'})
    expect(t).toMatchObject({host: 'n1.lab.internal', user: 'labuser', port: 22, alias: 'n1.lab'})
  })

  it('defaults: user from opts.defaultUser, else the local user; port 22; no alias', () => {
    const missing = join(dir, 'no-such-config')
    expect(resolveTarget('10.1.1.1', {sshConfigPath: missing, defaultUser: 'ops'})).toMatchObject({host: '10.1.1.1', user: 'ops', port: 22})
    const t = resolveTarget('10.1.1.1', {sshConfigPath: missing})
    expect(t.user).toBe(userInfo().username)
    expect(t.alias).toBeUndefined()
    for (const f of t.identityFiles) expect(f.startsWith(join(homedir(), '.ssh'))).toBe(true)
  })

  it('expands ~ in -i', () => {
    const t = resolveTarget('h', {sshConfigPath: join(dir, 'none'), identityFile: '~/k'})
    expect(t.identityFiles[0]).toBe(join(homedir(), 'k'))
  })

  it('rejects a HostName from the config that is not a host', () => {
    expect(() => resolveTarget('evil', {sshConfigPath: config})).toThrow(UsageError)
  })

  it('targetLabel brackets IPv6', () => {
    expect(targetLabel({host: '::1', port: 22, user: 'u', identityFiles: []})).toBe('u@[::1]:22')
    expect(targetLabel({host: 'h', port: 2222, user: 'u', identityFiles: []})).toBe('u@h:2222')
  })
})
