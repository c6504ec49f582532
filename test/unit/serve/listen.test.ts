import {describe, expect, it} from 'vitest'
import {UsageError} from '../../../src/remote/errors.js'
import {isLoopback, parseListen, parseSize} from '../../../src/serve/listen.js'

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:8082', '127.0.0.1', 8082],
    ['0.0.0.0:8443', '0.0.0.0', 8443],
    ['localhost:80', 'localhost', 80],
    ['svc.example.com:65535', 'svc.example.com', 65535],
    ['[::1]:8082', '::1', 8082],
    ['[::]:9000', '::', 9000],
    ['[fe80::1]:1', 'fe80::1', 1],
    [':8082', '127.0.0.1', 8082],
    ['  :8082 ', '127.0.0.1', 8082],
    ['127.0.0.1:0', '127.0.0.1', 0],
  ])('%j -> %s port %d', (text, host, port) => {
    expect(parseListen(text)).toEqual({host, port})
  })

  it.each(['8082', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:123456', 'host:port', '::1:8082', '[::1]8082', 'a:b:80', ''])('%j is refused naming the flag', (text) => {
    expect(() => parseListen(text)).toThrow(UsageError)
    expect(() => parseListen(text)).toThrow(`invalid --listen ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:8082 or 0.0.0.0:8443`)
  })

  it('brackets hold an IPv6 address only', () => {
    expect(() => parseListen('[127.0.0.1]:80')).toThrow('invalid --listen "[127.0.0.1]:80": 127.0.0.1 is not an IPv6 address')
    expect(() => parseListen('[:::]:80')).toThrow('invalid --listen "[:::]:80": ::: is not an IPv6 address')
  })
})

describe('isLoopback', () => {
  it.each(['localhost', '::1', '127.0.0.1', '127.1.2.3', '127.255.255.254'])('%s is loopback', (host) => {
    expect(isLoopback(host)).toBe(true)
  })

  it.each(['0.0.0.0', '::', '10.0.0.1', '192.168.1.127', '128.0.0.1', 'example.com', '127.example.com', '127.0.0.1.nip.io'])('%s is not', (host) => {
    expect(isLoopback(host)).toBe(false)
  })
})

describe('parseSize', () => {
  it.each([
    ['512m', 512 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['2G', 2 * 1024 ** 3],
    ['100k', 102_400],
    ['100kb', 102_400],
    ['1MB', 1024 ** 2],
    ['12345', 12_345],
    ['1', 1],
    [' 64m ', 64 * 1024 ** 2],
  ])('%j -> %d bytes', (text, bytes) => {
    expect(parseSize(text, '--max-upload')).toBe(bytes)
  })

  it.each(['', 'm', '1.5g', '-1m', '2t', '10 m', 'lots'])('%j is refused naming the flag', (text) => {
    expect(() => parseSize(text, '--max-upload')).toThrow(UsageError)
    expect(() => parseSize(text, '--max-upload')).toThrow(`invalid --max-upload ${JSON.stringify(text)}: expected a size like 256m or 1g`)
  })

  it('at least one byte', () => {
    expect(() => parseSize('0', '--max-upload')).toThrow('invalid --max-upload "0": must be at least 1 byte')
    expect(() => parseSize('0g', '--body-limit')).toThrow('invalid --body-limit "0g": must be at least 1 byte')
  })
})
