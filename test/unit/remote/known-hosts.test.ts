import {execFileSync} from 'node:child_process'
import {createHmac, randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {fingerprint, hostMatches, KnownHosts, keyTypeOfBlob, knownHostsName} from '../../../src/remote/known-hosts.js'

const dir = mkdtempSync(join(tmpdir(), 'cms-kh-'))

function genKey(name: string, type = 'ed25519'): {blob: Buffer; type: string; b64: string; path: string} {
  const path = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'test', '-f', path])
  const [keyType, b64] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/) as [string, string]
  return {blob: Buffer.from(b64, 'base64'), type: keyType, b64, path}
}

const A = genKey('a')
const B = genKey('b')
const E = genKey('e', 'ecdsa')

function hashed(name: string): string {
  const salt = randomBytes(20)
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`
}

function fresh(userLines: string[] = [], ownLines?: string[]): KnownHosts {
  const d = mkdtempSync(join(dir, 'kh-'))
  const user = join(d, 'user_known_hosts')
  writeFileSync(user, userLines.map((l) => `${l}\n`).join(''))
  const own = join(d, 'cms', 'known_hosts')
  const kh = new KnownHosts({ownFile: own, userFiles: [user, join(d, 'missing')]})
  if (ownLines) {
    execFileSync('mkdir', ['-p', join(d, 'cms')])
    writeFileSync(own, ownLines.map((l) => `${l}\n`).join(''))
  }
  return kh
}

describe('fingerprint', () => {
  it.each([
    ['ed25519', A],
    ['ecdsa', E],
  ])('matches ssh-keygen -lf for %s', (_, key) => {
    const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key.path}.pub`], {encoding: 'utf8'})
    expect(line.split(' ')[1]).toBe(fingerprint(key.blob))
    expect(keyTypeOfBlob(key.blob)).toBe(key.type)
  })

  it('matches for RSA too', () => {
    const R = genKey('r', 'rsa')
    const line = execFileSync('ssh-keygen', ['-lf', `${R.path}.pub`], {encoding: 'utf8'})
    expect(line.split(' ')[1]).toBe(fingerprint(R.blob))
  })
})

describe('KnownHosts.check', () => {
  it('plain names on port 22 and [host]:port otherwise', () => {
    const kh = fresh([`10.0.0.1 ${A.type} ${A.b64}`, `[10.0.0.2]:2222 ${A.type} ${A.b64}`])
    expect(kh.check('10.0.0.1', 22, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('10.0.0.1', 2222, A.type, A.blob)).toEqual({status: 'unknown'})
    expect(kh.check('10.0.0.2', 2222, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('10.0.0.2', 22, A.type, A.blob)).toEqual({status: 'unknown'})
    expect(kh.check('10.0.0.3', 22, A.type, A.blob)).toEqual({status: 'unknown'})
  })

  it('comma lists, case-insensitive names, comments and blank lines', () => {
    const kh = fresh(['# comment', '', `web1,Web2.Example.COM,10.0.0.9 ${A.type} ${A.b64} a comment`])
    expect(kh.check('web2.example.com', 22, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('10.0.0.9', 22, A.type, A.blob)).toEqual({status: 'match'})
  })

  it('hashed entries (HMAC-SHA1 like OpenSSH), for plain and bracketed names', () => {
    const kh = fresh([`${hashed('node7')} ${A.type} ${A.b64}`, `${hashed('[node8]:2200')} ${A.type} ${A.b64}`])
    expect(kh.check('node7', 22, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('node8', 2200, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('node8', 22, A.type, A.blob)).toEqual({status: 'unknown'})
    const changed = kh.check('node7', 22, B.type, B.blob)
    expect(changed).toMatchObject({status: 'changed', expected: [fingerprint(A.blob)]})
  })

  it('reads hashed lines written by ssh-keygen -H', () => {
    const d = mkdtempSync(join(dir, 'h-'))
    const file = join(d, 'known_hosts')
    writeFileSync(file, `[hashme.example]:2022 ${A.type} ${A.b64}\n`)
    execFileSync('ssh-keygen', ['-H', '-f', file], {stdio: 'ignore'})
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/)
    const kh = new KnownHosts({ownFile: join(d, 'own'), userFiles: [file]})
    expect(kh.check('hashme.example', 2022, A.type, A.blob)).toEqual({status: 'match'})
  })

  it('wildcards and negation', () => {
    const kh = fresh([`10.0.0.*,!10.0.0.66 ${A.type} ${A.b64}`, `node-?.lab ${A.type} ${A.b64}`, `[*.pool]:2222 ${A.type} ${A.b64}`])
    expect(kh.check('10.0.0.12', 22, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('10.0.0.66', 22, A.type, A.blob)).toEqual({status: 'unknown'})
    expect(kh.check('node-3.lab', 22, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('node-33.lab', 22, A.type, A.blob)).toEqual({status: 'unknown'})
    expect(kh.check('x.pool', 2222, A.type, A.blob)).toEqual({status: 'match'})
    expect(hostMatches('a.b', 'aXb')).toBe(false) // '.' is literal
  })

  it('a different key of the same type is changed, with the source file:line', () => {
    const kh = fresh(['# header', `h1 ${A.type} ${A.b64}`])
    const r = kh.check('h1', 22, B.type, B.blob)
    expect(r).toEqual({status: 'changed', expected: [fingerprint(A.blob)], source: `${kh.userFiles[0]}:2`})
  })

  it('only another key type known is treated as changed (strict), not unknown', () => {
    const kh = fresh([`h2 ${E.type} ${E.b64}`])
    expect(kh.check('h2', 22, A.type, A.blob)).toMatchObject({status: 'changed', expected: [fingerprint(E.blob)]})
    expect(kh.knownKeyTypes('h2', 22)).toEqual([E.type])
  })

  it('any matching key among several types is a match', () => {
    const kh = fresh([`h3 ${E.type} ${E.b64}`, `h3 ${A.type} ${A.b64}`])
    expect(kh.check('h3', 22, A.type, A.blob)).toEqual({status: 'match'})
  })

  it('@revoked keys are refused; @cert-authority lines are ignored', () => {
    const kh = fresh([`h4 ${A.type} ${A.b64}`, `@revoked * ${A.type} ${A.b64}`, `@cert-authority *.lab ${B.type} ${B.b64}`])
    expect(kh.check('h4', 22, A.type, A.blob)).toMatchObject({status: 'changed', expected: [], source: `${kh.userFiles[0]}:2`})
    expect(kh.check('x.lab', 22, B.type, B.blob)).toEqual({status: 'unknown'})
  })

  it('ignores malformed lines (bad base64, type mismatch)', () => {
    const kh = fresh([`h5 ${A.type} !!!notbase64`, `h5 ${E.type} ${A.b64}`, 'h5', ''])
    expect(kh.check('h5', 22, A.type, A.blob)).toEqual({status: 'unknown'})
  })
})

describe('KnownHosts add / replace / forget', () => {
  it('add creates the file 0600 (and its directory) and the key then matches', () => {
    const kh = fresh()
    kh.add('10.1.0.1', 22, A.type, A.blob)
    kh.add('::1', 2222, A.type, A.blob)
    expect(statSync(kh.ownFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(kh.ownFile, 'utf8')).toBe(`10.1.0.1 ${A.type} ${A.b64}\n[::1]:2222 ${A.type} ${A.b64}\n`)
    expect(kh.check('10.1.0.1', 22, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('::1', 2222, A.type, A.blob)).toEqual({status: 'match'})
    expect(knownHostsName('::1', 22)).toBe('::1')
  })

  it('replace swaps the key for one host only', () => {
    const kh = fresh([], [`h6 ${A.type} ${A.b64}`, `[h6]:2222 ${A.type} ${A.b64}`, `h7 ${A.type} ${A.b64}`])
    kh.replace('h6', 22, B.type, B.blob)
    expect(kh.check('h6', 22, B.type, B.blob)).toEqual({status: 'match'})
    expect(kh.check('h6', 22, A.type, A.blob)).toMatchObject({status: 'changed'})
    expect(kh.check('h6', 2222, A.type, A.blob)).toEqual({status: 'match'})
    expect(kh.check('h7', 22, A.type, A.blob)).toEqual({status: 'match'})
  })

  it('forget removes plain, hashed and comma-listed entries, keeps wildcards and user files untouched', () => {
    const userLine = `h8 ${A.type} ${A.b64}`
    const kh = fresh(
      [userLine],
      ['# keep me', `h8 ${A.type} ${A.b64}`, `${hashed('h8')} ${A.type} ${A.b64}`, `h8,h9 ${A.type} ${A.b64}`, `h* ${B.type} ${B.b64}`],
    )
    kh.forget('h8', 22)
    expect(readFileSync(kh.ownFile, 'utf8')).toBe(`# keep me\nh9 ${A.type} ${A.b64}\nh* ${B.type} ${B.b64}\n`)
    expect(readFileSync(kh.userFiles[0]!, 'utf8')).toBe(`${userLine}\n`)
    expect(statSync(kh.ownFile).mode & 0o777).toBe(0o600)
    kh.forget('nothing-here', 22) // no-op
    fresh().forget('h', 22) // missing file: no-op
  })
})

describe('linesFor: the verified keys of one host, for OpenSSH', () => {
  it('writes the entries that match the host (hashed and wildcard ones too) under its own name, revoked ones marked', () => {
    const kh = fresh([`${hashed('[10.0.0.5]:2222')} ${A.type} ${A.b64}`, `@revoked [10.0.0.*]:2222 ${E.type} ${E.b64}`, `10.0.0.6 ${B.type} ${B.b64}`], [`[10.0.0.5]:2222 ${B.type} ${B.b64}`])
    expect(kh.linesFor('10.0.0.5', 2222).sort()).toEqual(
      [`[10.0.0.5]:2222 ${B.type} ${B.b64}`, `[10.0.0.5]:2222 ${A.type} ${A.b64}`, `@revoked [10.0.0.5]:2222 ${E.type} ${E.b64}`].sort(),
    )
    expect(kh.linesFor('10.0.0.7', 22)).toEqual([])
  })

  it('OpenSSH finds them for the host and port it is told to reach', () => {
    const kh = fresh([], [`[10.0.0.5]:2222 ${A.type} ${A.b64}`])
    const file = join(mkdtempSync(join(dir, 'ssh-')), 'known_hosts')
    writeFileSync(file, `${kh.linesFor('10.0.0.5', 2222).join('\n')}\n`)
    expect(execFileSync('ssh-keygen', ['-F', '[10.0.0.5]:2222', '-f', file], {encoding: 'utf8'})).toContain(A.b64)
  })
})
