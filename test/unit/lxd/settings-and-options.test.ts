import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {lxdLaunchFlagsGiven, lxdLaunchOptionsOf, lxdOptionsOf} from '../../../src/providers/lxd/flags.js'
import {parseMemory, validateLxdLaunch} from '../../../src/providers/lxd/launch-options.js'
import {endpointAccess, lxdEndpoint, lxdExplicit} from '../../../src/providers/lxd/settings.js'
import {providerEntry, refuseOtherProvidersFlags} from '../../../src/providers/registry.js'

const homes: string[] = []
afterAll(() => {
  for (const home of homes) rmSync(home, {recursive: true, force: true})
})

/** A home with lxc's client files and a server certificate for lxd.example, as `lxc remote add` leaves them. */
function lxcHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'cms-lxd-home-'))
  homes.push(home)
  mkdirSync(join(home, '.config', 'lxc', 'servercerts'), {recursive: true})
  for (const f of ['client.crt', 'client.key', 'servercerts/lxd.example.crt']) writeFileSync(join(home, '.config', 'lxc', f), 'x')
  return home
}

describe('which LXD daemon', () => {
  it('a local socket: --lxd-socket, the recorded one, CMS_LXD_SOCKET, $LXD_DIR/unix.socket, then /var/lib/lxd/unix.socket', () => {
    const env = {CMS_LXD_SOCKET: '/env/unix.socket', LXD_DIR: '/lxd-dir'}
    expect(lxdEndpoint({socket: '/flag.socket'}, {socket: '/recorded.socket'}, env)).toEqual({kind: 'socket', socket: '/flag.socket'})
    expect(lxdEndpoint({}, {socket: '/recorded.socket'}, env)).toEqual({kind: 'socket', socket: '/recorded.socket'})
    expect(lxdEndpoint({}, undefined, env)).toEqual({kind: 'socket', socket: '/env/unix.socket'})
    expect(lxdEndpoint({}, undefined, {LXD_DIR: '/lxd-dir'})).toEqual({kind: 'socket', socket: '/lxd-dir/unix.socket'})
    expect(lxdEndpoint({}, undefined, {})).toEqual({kind: 'socket', socket: '/var/lib/lxd/unix.socket'})
    expect(() => lxdEndpoint({socket: 'relative.sock'}, undefined, {})).toThrow('invalid LXD socket "relative.sock": expected an absolute path')
  })

  it('a remote: its URL checked, lxc\'s client files and the server certificate named after its host by default', () => {
    const home = lxcHome()
    const remote = lxdEndpoint({remote: 'https://lxd.example:8443'}, undefined, {}, home)
    expect(remote).toEqual({
      kind: 'remote',
      url: 'https://lxd.example:8443',
      clientCert: join(home, '.config/lxc/client.crt'),
      clientKey: join(home, '.config/lxc/client.key'),
      serverCert: join(home, '.config/lxc/servercerts/lxd.example.crt'),
    })
    expect(endpointAccess(remote)).toEqual({remote: 'https://lxd.example:8443', clientCert: join(home, '.config/lxc/client.crt'), clientKey: join(home, '.config/lxc/client.key'), serverCert: join(home, '.config/lxc/servercerts/lxd.example.crt')})
    // The certificate files recorded for a remote are used again for it (and only for it).
    const recorded = {remote: 'https://lxd.example:8443', clientCert: join(home, '.config/lxc/client.key'), clientKey: '/nonexistent.key', serverCert: join(home, '.config/lxc/client.crt')}
    expect(() => lxdEndpoint({}, recorded, {}, home)).toThrow('LXD client key /nonexistent.key not found')
    expect(lxdEndpoint({clientKey: join(home, '.config/lxc/client.key')}, recorded, {}, home)).toMatchObject({clientCert: recorded.clientCert, serverCert: recorded.serverCert})
    expect(lxdEndpoint({remote: 'https://lxd.example'}, recorded, {}, home)).toMatchObject({clientKey: join(home, '.config/lxc/client.key')})
    // A cluster created on a remote is found there again without flags; a flag still wins.
    expect(lxdEndpoint({}, {remote: 'https://lxd.example:8443'}, {CMS_LXD_SOCKET: '/s'}, home).kind).toBe('remote')
    expect(lxdEndpoint({socket: '/s'}, {remote: 'https://lxd.example:8443'}, {}, home)).toEqual({kind: 'socket', socket: '/s'})
    expect(lxdEndpoint({}, undefined, {CMS_LXD_REMOTE: 'https://lxd.example'}, home)).toMatchObject({kind: 'remote', url: 'https://lxd.example'})
  })

  it('refuses a bad remote, missing certificate files, and certificate flags without a remote, by name', () => {
    const home = lxcHome()
    expect(() => lxdEndpoint({remote: 'http://lxd.example:8443'}, undefined, {}, home)).toThrow("invalid --lxd-remote \"http://lxd.example:8443\": LXD's remote API is HTTPS only")
    expect(() => lxdEndpoint({remote: 'https://u:p@lxd.example/1.0'}, undefined, {}, home)).toThrow('with no path or credentials')
    expect(() => lxdEndpoint({remote: 'not a url'}, undefined, {}, home)).toThrow('invalid --lxd-remote "not a url"')
    expect(() => lxdEndpoint({remote: 'https://other.example'}, undefined, {}, home)).toThrow(`LXD server certificate ${join(home, '.config/lxc/servercerts/other.example.crt')} not found: pass --lxd-server-cert`)
    expect(() => lxdEndpoint({remote: 'https://lxd.example', clientKey: '/nonexistent.key'}, undefined, {}, home)).toThrow('LXD client key /nonexistent.key not found: pass --lxd-client-key')
    expect(() => lxdEndpoint({remote: 'https://lxd.example', socket: '/s'}, undefined, {}, home)).toThrow('--lxd-remote and --lxd-socket name two daemons: pass one')
    expect(() => lxdEndpoint({serverCert: '/x.crt'}, undefined, {}, home)).toThrow('--lxd-server-cert is for a remote daemon: pass --lxd-remote too')
  })

  it('reads its flags by name; only --lxd-socket and --lxd-remote make a failure to list fatal', () => {
    const opts = lxdOptionsOf({'lxd-remote': 'https://h', 'lxd-client-cert': '/c', 'lxd-client-key': '/k', 'lxd-server-cert': '/s', region: 'x'})
    expect(opts).toEqual({socket: undefined, remote: 'https://h', clientCert: '/c', clientKey: '/k', serverCert: '/s'})
    expect(lxdExplicit(opts)).toBe(true)
    expect(lxdExplicit({})).toBe(false)
  })
})

describe('create -p lxd flags', () => {
  it('--cpus and --memory become limits; sizes in MiB or GiB', () => {
    expect(parseMemory('512MiB')).toBe(512)
    expect(parseMemory('2GiB')).toBe(2048)
    expect(parseMemory('3GB')).toBe(3072)
    expect(validateLxdLaunch({cpus: 2, memory: '1GiB', image: 'my-image'})).toEqual({cpus: 2, memoryMb: 1024, image: 'my-image'})
    expect(validateLxdLaunch({})).toEqual({})
    expect(providerEntry('lxd').checkCreate({cpus: 1, memory: '768MiB'}, {engine: 'spark'})).toEqual({cpus: 1, memoryMb: 768})
  })

  it('refuses bad values by name before anything is made', () => {
    expect(() => parseMemory('2G')).toThrow('invalid --memory "2G": expected a size like 512MiB or 2GiB')
    expect(() => parseMemory('32MiB')).toThrow('from 64MiB to 1024GiB')
    expect(() => validateLxdLaunch({cpus: 0})).toThrow('invalid --cpus 0: expected a whole number from 1 to 256')
    expect(() => validateLxdLaunch({image: '../etc'})).toThrow('invalid --lxd-image "../etc"')
  })

  it('its create flags are refused with another provider, and the others\' with it', () => {
    expect(lxdLaunchFlagsGiven({cpus: 2, memory: '1GiB', region: 'x'})).toEqual(['--cpus', '--memory'])
    expect(lxdLaunchOptionsOf({cpus: 2, 'lxd-image': 'a'})).toEqual({cpus: 2, memory: undefined, image: 'a', vm: undefined})
    expect(() => refuseOtherProvidersFlags('docker', {cpus: 2})).toThrow('--cpus: only for the lxd provider (-p lxd)')
    expect(() => refuseOtherProvidersFlags('lxd', {'instance-type': 'm6i.large'})).toThrow('--instance-type: only for the aws provider (-p aws)')
    expect(() => refuseOtherProvidersFlags('lxd', {cpus: 2, memory: '1GiB'})).not.toThrow()
  })
})
