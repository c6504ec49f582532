import {request} from 'node:http'
import Fastify, {type FastifyInstance} from 'fastify'
import {afterEach, describe, expect, it} from 'vitest'
import {streamLogs} from '../../../src/serve/http/tasks.js'
import type {TaskService} from '../../../src/serve/service.js'

type Logs = TaskService['logs']

/** A server whose /task/:id/logs streams what `logs` gives, over real HTTP on loopback. */
async function serverWith(logs: Logs): Promise<{app: FastifyInstance; port: number}> {
  const app = Fastify()
  const service = {logs} as unknown as TaskService
  app.get('/task/:id/logs', async (req, reply) => streamLogs(service, req, reply))
  await app.listen({host: '127.0.0.1', port: 0})
  return {app, port: (app.server.address() as {port: number}).port}
}

const apps: FastifyInstance[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

/** Reads the first chunk of a followed log, then closes the connection. */
function readFirstChunkAndLeave(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: '/task/t1/logs?follow=1'}, (res) => {
      res.once('data', (chunk: Buffer) => {
        req.destroy()
        resolve(chunk.toString())
      })
    })
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
    req.end()
  })
}

describe('streamLogs', () => {
  it('a reader that leaves ends the follow while the job is quiet (the engine is told, and returns)', async () => {
    let ended: (aborted: boolean) => void = () => undefined
    const finished = new Promise<boolean>((resolve) => (ended = resolve))
    let rounds = 0
    const {app, port} = await serverWith(async (_id, opts) => {
      expect(opts.follow).toBe(true)
      opts.out('first line\n')
      // A quiet job: no output, polled until the signal says the reader is gone (bounded: 200 rounds of 10 ms).
      for (; rounds < 200 && !opts.signal?.aborted; rounds++) await new Promise((r) => setTimeout(r, 10))
      ended(opts.signal?.aborted === true)
    })
    apps.push(app)
    expect(await readFirstChunkAndLeave(port)).toBe('first line\n')
    expect(await finished).toBe(true)
    expect(rounds).toBeLessThan(200)
  })

  it('a reader that stays gets everything until the job ends, and the signal is never raised', async () => {
    let signal: AbortSignal | undefined
    const {app, port} = await serverWith(async (_id, opts) => {
      signal = opts.signal
      opts.out('a\n')
      await new Promise((r) => setTimeout(r, 20))
      opts.err('b\n')
    })
    apps.push(app)
    const res = await fetch(`http://127.0.0.1:${port}/task/t1/logs?follow=1`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('a\nb\n')
    expect(signal?.aborted).toBe(false)
  })
})
