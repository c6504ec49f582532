import {describe, expect, it} from 'vitest'
import {parseSocksRequest} from '../../src/remote/socks-proxy.js'

describe('SOCKS5 CONNECT requests', () => {
  it('reads IPv4, domain and IPv6 destinations and where the request ends', () => {
    expect(parseSocksRequest(Buffer.from([5, 1, 0, 1, 10, 0, 0, 7, 0x26, 0x8a]))).toEqual({ok: true, host: '10.0.0.7', port: 9866, length: 10})
    const name = Buffer.from('nn.example')
    expect(parseSocksRequest(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0x1f, 0x90]), Buffer.from('rest')]))).toEqual({ok: true, host: 'nn.example', port: 8080, length: 17})
    const v6 = Buffer.alloc(22)
    v6.set([5, 1, 0, 4])
    v6.writeUInt16BE(0xfd00, 4)
    v6.writeUInt16BE(2, 18)
    v6.writeUInt16BE(8020, 20)
    expect(parseSocksRequest(v6)).toEqual({ok: true, host: 'fd00:0:0:0:0:0:0:2', port: 8020, length: 22})
  })

  it('waits for a whole request and refuses what it does not serve', () => {
    expect(parseSocksRequest(Buffer.from([5, 1, 0, 1, 10]))).toEqual({ok: false, incomplete: true})
    expect(parseSocksRequest(Buffer.from([5, 2, 0, 1, 10, 0, 0, 7, 0, 80]))).toEqual({ok: false, reply: 7})
    expect(parseSocksRequest(Buffer.from([5, 1, 0, 9, 0, 0, 0]))).toEqual({ok: false, reply: 8})
  })
})
