import {execFileSync, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {commandAfterDashes} from '../../../src/cli/dash-command.js'
import {checkLocalFile, checkRemotePath} from '../../../src/cluster/copy-file.js'
import {placeScript, remotePathWord, stagedScript} from '../../../src/cluster/copy-scripts.js'
import {findHost, selectHosts} from '../../../src/cluster/host-select.js'
import {NotFoundError} from '../../../src/cluster/not-found.js'
import {remoteCommand} from '../../../src/cluster/run-command.js'
import type {Host} from '../../../src/providers/provider.js'
import {UsageError} from '../../../src/remote/errors.js'
import {exitStatus, openSshArgs} from '../../../src/remote/openssh.js'

const host = (id: string, role: Host['role'], address: string, port = 22): Host => ({
  id,
  role,
  target: {host: address, port, user: 'root', identityFiles: ['/home/u/.cms/keys/demo']},
  privateAddress: address,
  state: 'running',
})
const hosts = [host('cms-demo-1', 'head', '172.18.0.2'), host('cms-demo-2', 'worker', '172.18.0.3'), host('cms-demo-3', 'worker', '172.18.0.4', 2222)]
const ids = (hs: Host[]) => hs.map((h) => h.id)

describe('which hosts: findHost and --hosts', () => {
  it('finds a host by name, address, user@address and user@address:port', () => {
    expect(findHost(hosts, 'cms-demo-2').id).toBe('cms-demo-2')
    expect(findHost(hosts, '172.18.0.4').id).toBe('cms-demo-3')
    expect(findHost(hosts, 'root@172.18.0.3').id).toBe('cms-demo-2')
    expect(findHost(hosts, 'root@172.18.0.4:2222').id).toBe('cms-demo-3')
    expect(() => findHost(hosts, 'cms-demo-9')).toThrow(NotFoundError)
    expect(() => findHost(hosts, 'cms-demo-9')).toThrow('host "cms-demo-9" is not in the cluster (hosts: cms-demo-1, cms-demo-2, cms-demo-3)')
  })

  it('selects every host by default, roles, hosts and comma lists, each once in the cluster order', () => {
    expect(ids(selectHosts(hosts, []))).toEqual(['cms-demo-1', 'cms-demo-2', 'cms-demo-3'])
    expect(ids(selectHosts(hosts, ['worker']))).toEqual(['cms-demo-2', 'cms-demo-3'])
    expect(ids(selectHosts(hosts, ['head']))).toEqual(['cms-demo-1'])
    expect(ids(selectHosts(hosts, ['cms-demo-3,head', 'cms-demo-3']))).toEqual(['cms-demo-1', 'cms-demo-3'])
  })

  it('refuses an unknown host, an empty word and a role with no hosts (bad input)', () => {
    expect(() => selectHosts(hosts, ['nope'])).toThrow(NotFoundError)
    expect(() => selectHosts(hosts, ['head,'])).toThrow(UsageError)
    expect(() => selectHosts(hosts.slice(0, 1), ['worker'])).toThrow('the cluster has no worker hosts')
  })
})

describe('the system ssh login', () => {
  it('passes the key, the verified host keys only, strict checking, port and user, then the host and the command', () => {
    const args = openSshArgs({target: hosts[2]!.target, knownHostsFile: '/tmp/x/known_hosts', identitiesOnly: true, command: ['echo', 'a b'], tty: false})
    expect(args).toEqual([
      '-i', '/home/u/.cms/keys/demo',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'UserKnownHostsFile="/tmp/x/known_hosts"',
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'UpdateHostKeys=no',
      '-o', 'CheckHostIP=no',
      '-p', '2222',
      '-l', 'root',
      '--', '172.18.0.4', 'echo', 'a b',
    ])
  })

  it('asks for a terminal only when told, offers the agent too when the key is the user\'s', () => {
    const args = openSshArgs({target: {...hosts[0]!.target, identityFiles: []}, knownHostsFile: 'k', identitiesOnly: false, command: [], tty: true})
    expect(args).toContain('-t')
    expect(args).not.toContain('-i')
    expect(args.join(' ')).not.toContain('IdentitiesOnly')
    expect(args.at(-1)).toBe('172.18.0.2')
  })

  it('exits as a shell reports it: the code, or 128 + the signal', () => {
    expect(exitStatus(7, null)).toBe(7)
    expect(exitStatus(null, 'SIGTERM')).toBe(143)
  })
})

describe('command words', () => {
  it('splits at -- as given, whatever follows', () => {
    expect(commandAfterDashes(['-n', 'x', 'cms-x-2', '--', 'ls', '-la'], ['cms-x-2', 'ls', '-la'])).toEqual({before: ['cms-x-2'], command: ['ls', '-la']})
    expect(commandAfterDashes(['-n', 'x'], [])).toEqual({before: [], command: []})
  })

  it('joins the words for the remote shell as ssh does; none is bad input', () => {
    expect(remoteCommand(['echo', '$HOSTNAME', '|', 'wc'])).toBe('echo $HOSTNAME | wc')
    expect(() => remoteCommand([])).toThrow(/no command to run/)
    expect(() => remoteCommand(['  '])).toThrow(UsageError)
  })
})

describe('copy: checks and the scripts hosts run (run here with bash)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-copy-unit-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const src = join(dir, 'data.bin')
  writeFileSync(src, 'some bytes\n', {mode: 0o640})
  const sha = createHash('sha256').update('some bytes\n').digest('hex')
  const bash = (script: string) => spawnSync('bash', ['-c', script], {cwd: dir, env: {...process.env, HOME: dir}, encoding: 'utf8'})

  it('refuses a missing local file, a folder and an empty remote path as bad input', () => {
    expect(() => checkLocalFile(join(dir, 'nope'))).toThrow(`cannot read ${join(dir, 'nope')}: no such file`)
    expect(() => checkLocalFile(dir)).toThrow(/is not a file/)
    expect(checkLocalFile(src).bytes).toBe(11)
    expect(() => checkRemotePath(' ')).toThrow(UsageError)
    expect(() => checkRemotePath('a\nb')).toThrow(UsageError)
  })

  it('writes the file at a path, into a folder, under ~/, keeping its mode; prints the path', () => {
    mkdirSync(join(dir, 'into'))
    const cases: Array<[string, string]> = [
      [join(dir, 'at-path'), join(dir, 'at-path')],
      [join(dir, 'into'), join(dir, 'into', 'data.bin')],
      ['~/home-copy', join(dir, 'home-copy')],
      ["it's here", join(dir, "it's here")],
    ]
    for (const [remote, written] of cases) {
      const r = bash(placeScript({remote, name: 'data.bin', source: `cat ${src}`, sha256: sha, mode: 0o100640}))
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout.trim()).toBe(written)
      expect(readFileSync(written, 'utf8')).toBe('some bytes\n')
      expect(statSync(written).mode & 0o777).toBe(0o640)
    }
  })

  it('replaces nothing when the copy does not match the sha256, and leaves no temporary file', () => {
    writeFileSync(join(dir, 'kept'), 'old\n')
    const r = bash(placeScript({remote: join(dir, 'kept'), name: 'x', source: "printf 'other'", sha256: sha, mode: 0o644}))
    expect(r.status).toBe(3)
    expect(r.stderr).toContain("not the file's")
    expect(readFileSync(join(dir, 'kept'), 'utf8')).toBe('old\n')
    expect(execFileSync('ls', [dir], {encoding: 'utf8'})).not.toContain('cms-copy')
  })

  it('says which folder is missing', () => {
    const r = bash(placeScript({remote: join(dir, 'no', 'such', 'f'), name: 'x', source: `cat ${src}`, sha256: sha, mode: 0o644}))
    expect(r.status).toBe(2)
    expect(r.stderr.trim()).toBe(`there is no folder ${join(dir, 'no', 'such')}`)
  })

  it('knows a staged copy by its content, and makes the folder for one that is not there', () => {
    const staged = join(dir, 'stage', 'file')
    expect(bash(stagedScript(staged, sha)).stdout.trim()).toBe('')
    writeFileSync(staged, 'some bytes\n')
    expect(bash(stagedScript(staged, sha)).stdout.trim()).toBe('ok')
    writeFileSync(staged, 'changed\n')
    expect(bash(stagedScript(staged, sha)).stdout.trim()).toBe('')
  })

  it('quotes remote paths, with ~ as the login home', () => {
    expect(remotePathWord('/etc/app.conf')).toBe('/etc/app.conf')
    expect(remotePathWord('~')).toBe('"$HOME"')
    expect(remotePathWord('~/a b')).toBe(`"$HOME"/'a b'`)
    expect(remotePathWord('$(id)')).toBe(`'$(id)'`)
  })
})
