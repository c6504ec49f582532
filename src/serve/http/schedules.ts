import type {FastifyInstance, FastifyRequest} from 'fastify'
import type {TaskService} from '../service.js'
import type {FileRef} from '../store/store.js'
import {readMultipartTask} from './uploads.js'

const nameOf = (req: FastifyRequest) => (req.params as {name: string}).name

/**
 * Scheduled jobs: create, list, read, replace, delete, run now. Each run is an ordinary task linked to its schedule.
 * Create and replace take JSON, or multipart: the schedule as JSON in a field named `schedule`, the files its task
 * names as file parts (kept for every run).
 */
export function scheduleRoutes(app: FastifyInstance, service: TaskService, maxUploadBytes: number): void {
  const schedules = service.schedules
  /** The body, with its uploads; a refused request removes the files nothing references. */
  const withBody = async <T>(req: FastifyRequest, fn: (raw: unknown, uploads?: Map<string, FileRef>) => Promise<T>): Promise<T> => {
    const input: {raw: unknown; uploads?: Map<string, FileRef>; discard?: () => Promise<void>} = req.isMultipart() ? await readMultipartTask(req, service.files, service.store, maxUploadBytes, 'schedule') : {raw: req.body}
    try {
      return await fn(input.raw, input.uploads)
    } catch (error) {
      await input.discard?.()
      throw error
    }
  }
  app.post('/schedules', {config: {scope: 'submit'}}, async (req, reply) => {
    const view = await withBody(req, (raw, uploads) => schedules.create(raw, req.actor!, uploads))
    service.schedulesChanged()
    return reply.code(201).header('location', `/schedules/${encodeURIComponent(view.name)}`).send(view)
  })
  app.get('/schedules', {config: {scope: 'read'}}, async () => schedules.list())
  app.get('/schedules/:name', {config: {scope: 'read'}}, async (req) => schedules.get(nameOf(req)))
  app.put('/schedules/:name', {config: {scope: 'submit'}}, async (req, reply) => {
    const {view, created} = await withBody(req, (raw, uploads) => schedules.put(nameOf(req), raw, req.actor!, uploads))
    service.schedulesChanged()
    return reply.code(created ? 201 : 200).send(view)
  })
  app.delete('/schedules/:name', {config: {scope: 'submit'}}, async (req) => schedules.remove(nameOf(req)))
  app.post('/schedules/:name/run', {config: {scope: 'submit'}}, async (req, reply) => {
    const task = await schedules.runNow(nameOf(req), req.actor!)
    return reply.code(201).header('location', `/task/${encodeURIComponent(task.id)}`).send(await service.task(task.id))
  })
}
