import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'
import {z} from 'zod'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import type {FileStore} from '../files.js'
import {isTaskState} from '../queue/states.js'
import type {TaskService} from '../service.js'
import type {FileRef} from '../store/store.js'
import {readMultipartTask} from './uploads.js'

export interface TaskRouteOptions {
  service: TaskService
  files: FileStore
  maxUploadBytes: number
}

const priorityBody = z.strictObject({priority: z.int({error: 'expected a whole number from 0 to 1000'}).min(0, {error: 'expected a whole number from 0 to 1000'}).max(1000, {error: 'expected a whole number from 0 to 1000'})}, {error: 'expected {"priority": N}'})

function firstIssue(error: z.ZodError): string {
  const iss = error.issues[0]!
  return `${iss.path.length ? iss.path.join('.') : 'body'}: ${iss.message}`
}

/** Task resources: submit, batch submit, read, list, events, logs, cancel, rerun, priority. */
export function taskRoutes(app: FastifyInstance, {service, files, maxUploadBytes}: TaskRouteOptions): void {
  app.post('/task', {config: {scope: 'submit'}}, async (req, reply) => {
    const input: {raw: unknown; uploads?: Map<string, FileRef>; discard?: () => Promise<void>} = req.isMultipart() ? await readMultipartTask(req, files, service.store, maxUploadBytes) : {raw: req.body}
    try {
      const [{task, created}] = await service.submit([input], req.actor!, false)
      const view = await service.task(task.id)
      return reply.code(created ? 201 : 200).header('location', `/task/${encodeURIComponent(task.id)}`).send(view)
    } catch (error) {
      await input.discard?.()
      throw error
    }
  })

  app.post('/tasks', {config: {scope: 'submit'}}, async (req, reply) => {
    const body = req.body as unknown
    const list = Array.isArray(body) ? body : body && typeof body === 'object' && Array.isArray((body as {tasks?: unknown}).tasks) ? (body as {tasks: unknown[]}).tasks : undefined
    if (!list) throw new UsageError('body: expected {"tasks": [task, ...]} or a JSON array of tasks')
    const stored = await service.submit(list.map((raw) => ({raw})), req.actor!, true)
    const created = stored.filter((s) => s.created).length
    return reply.code(created > 0 ? 201 : 200).send({created, existing: stored.length - created, tasks: stored.map((s) => ({id: s.task.id, state: s.task.state, created: s.created}))})
  })

  app.get('/task/:id', {config: {scope: 'read'}}, async (req) => service.task(idOf(req)))
  app.get('/task/:id/events', {config: {scope: 'read'}}, async (req) => ({events: await service.events(idOf(req))}))
  app.get('/task/:id/logs', {config: {scope: 'read'}}, async (req, reply) => streamLogs(service, req, reply))

  app.get('/tasks', {config: {scope: 'read'}}, async (req) => {
    const q = req.query as Record<string, string | undefined>
    const known = new Set(['state', 'cluster', 'name', 'since', 'limit', 'cursor'])
    const unknown = Object.keys(q).find((k) => !known.has(k))
    if (unknown) throw new UsageError(`${unknown}: unknown query parameter (known: ${[...known].join(', ')})`)
    if (q.state !== undefined && !isTaskState(q.state)) throw new UsageError(`state: expected one of QUEUED, SUBMITTED, RUNNING, SUCCEEDED, FAILED, KILLED, DEAD`)
    const limit = q.limit === undefined ? 100 : Number(q.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('limit: expected a whole number from 1 to 1000')
    const cursor = q.cursor === undefined ? undefined : Number(q.cursor)
    if (cursor !== undefined && !Number.isInteger(cursor)) throw new UsageError('cursor: expected the nextCursor of a previous page')
    let since: number | undefined
    if (q.since !== undefined) {
      since = /^\d+$/.test(q.since) ? Number(q.since) : Date.parse(q.since)
      if (!Number.isFinite(since)) throw new UsageError('since: expected an ISO 8601 time or milliseconds since the epoch')
    }
    return service.list({state: q.state as never, cluster: q.cluster, name: q.name, since, limit, cursor})
  })

  app.delete('/task/:id', {config: {scope: 'submit'}}, async (req) => {
    const q = req.query as Record<string, string | undefined>
    // ?purge=1: a finished task is deleted with its history; otherwise DELETE cancels (kills) it.
    return q.purge === '1' || q.purge === 'true' ? service.deleteTask(idOf(req)) : service.cancel(idOf(req), req.actor!)
  })
  app.post('/task/:id/rerun', {config: {scope: 'submit'}}, async (req) => service.rerun(idOf(req), req.actor!))
  app.post('/task/:id/priority', {config: {scope: 'submit'}}, async (req) => {
    const parsed = priorityBody.safeParse(req.body)
    if (!parsed.success) throw new UsageError(firstIssue(parsed.error))
    return service.setPriority(idOf(req), parsed.data.priority, req.actor!)
  })
}

function idOf(req: FastifyRequest): string {
  return (req.params as {id: string}).id
}

/**
 * The engine's logs of the task's job as plain text, streamed as the engine gives them (`?follow=1`: until the job
 * ends). Status and headers wait for the first output, so a task without a job still gets its 404/409.
 */
export async function streamLogs(service: TaskService, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const q = req.query as Record<string, string | undefined>
  const follow = q.follow === '1' || q.follow === 'true'
  let started = false
  const write = (chunk: string) => {
    if (reply.raw.destroyed) throw new ApiError(499, 'the client went away')
    if (!started) {
      reply.hijack()
      reply.raw.writeHead(200, {'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff'})
      started = true
    }
    reply.raw.write(chunk)
  }
  // A reader that goes away (a closed dashboard page, a Ctrl-C'd curl) ends the follow, also while the job is quiet.
  const gone = new AbortController()
  const leave = () => gone.abort()
  reply.raw.once('close', leave)
  try {
    await service.logs(idOf(req), {follow, out: write, err: write, signal: gone.signal})
    if (gone.signal.aborted) {
      if (!started) reply.hijack()
      return
    }
    write('')
    reply.raw.end()
  } catch (error) {
    if (!started) throw error
    if (!reply.raw.destroyed) reply.raw.end(`\n[cms serve: the log stream ended early: ${(error as Error).message.split('\n')[0]}]\n`)
  } finally {
    reply.raw.off('close', leave)
  }
}
