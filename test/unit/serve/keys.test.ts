import {describe, expect, it} from 'vitest'
import {UsageError} from '../../../src/remote/errors.js'
import {SCOPES, bearerKey, checkKeyName, checkScope, grants, hashKey, isScope, newKey} from '../../../src/serve/keys.js'

describe('API key scopes', () => {
  it('read < submit < admin: a scope grants itself and the ones below, never the ones above', () => {
    const table = SCOPES.flatMap((have) => SCOPES.map((need) => `${have}>=${need}:${grants(have, need)}`))
    expect(table).toEqual([
      'read>=read:true',
      'read>=submit:false',
      'read>=admin:false',
      'submit>=read:true',
      'submit>=submit:true',
      'submit>=admin:false',
      'admin>=read:true',
      'admin>=submit:true',
      'admin>=admin:true',
    ])
  })

  it('isScope and checkScope', () => {
    expect(SCOPES.filter(isScope)).toEqual(['read', 'submit', 'admin'])
    expect(isScope('Admin')).toBe(false)
    expect(checkScope('submit')).toBe('submit')
    expect(() => checkScope('write')).toThrow(UsageError)
    expect(() => checkScope('write')).toThrow('invalid scope "write": expected read, submit or admin')
    expect(() => checkScope('')).toThrow('invalid scope "": expected read, submit or admin')
  })
})

describe('key names', () => {
  it.each(['ci', 'a', 'deploy-bot.prod_1', 'A'.repeat(64), '9lives'])('%j is a name', (name) => {
    expect(checkKeyName(name)).toBe(name)
  })

  it.each(['', '-x', '.x', '_x', 'a b', 'a/b', 'A'.repeat(65), 'ключ'])('%j is refused', (name) => {
    expect(() => checkKeyName(name)).toThrow(UsageError)
    expect(() => checkKeyName(name)).toThrow(`invalid key name ${JSON.stringify(name)}: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`)
  })
})

describe('keys and their hashes', () => {
  it('newKey: cms_ and 256 random bits in base64url (43 characters), different every time', () => {
    const keys = Array.from({length: 50}, () => newKey())
    for (const k of keys) {
      expect(k).toMatch(/^cms_[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(k.slice(4), 'base64url')).toHaveLength(32)
    }
    expect(new Set(keys).size).toBe(50)
  })

  it('hashKey: SHA-256 in hex, the same for the same key', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    const k = newKey()
    expect(hashKey(k)).toBe(hashKey(k))
    expect(hashKey(k)).toMatch(/^[0-9a-f]{64}$/)
    expect(hashKey(`${k}x`)).not.toBe(hashKey(k))
  })
})

describe('bearerKey', () => {
  it.each([
    ['Bearer cms_abc', 'cms_abc'],
    ['bearer cms_abc', 'cms_abc'],
    ['BEARER   cms_abc  ', 'cms_abc'],
    ['Bearer\tcms_abc', 'cms_abc'],
  ])('%j -> %j', (header, key) => {
    expect(bearerKey(header)).toBe(key)
  })

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a b', 'cms_abc', ' Bearer x', 'Bearerx y'])('%j -> no key', (header) => {
    expect(bearerKey(header)).toBeUndefined()
  })
})
