import type {FastifyInstance} from 'fastify'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import {checkKeyName, checkScope, hashKey, newKey} from '../keys.js'
import type {TaskService} from '../service.js'
import {prometheusText} from './metrics.js'
import {eventView} from '../autoscale/autoscaler.js'

/** What the service may use and how its queue stands; job sources and keys (changes: admin); Prometheus metrics. */
export function mgmtRoutes(app: FastifyInstance, service: TaskService, requestCounts: Map<string, number>): void {
  app.get('/mgmt/clusters', {config: {scope: 'read'}}, async () => ({clusters: await service.clusters()}))
  app.get('/mgmt/clusters/:name/events', {config: {scope: 'read'}}, async (req) => {
    const {name} = req.params as {name: string}
    return {cluster: name, events: (await service.clusterEvents.list(name, 100)).map(eventView)}
  })
  app.get('/mgmt/queue', {config: {scope: 'read'}}, async () => service.queue())
  app.get('/mgmt/sources', {config: {scope: 'read'}}, async () => ({sources: service.sources()}))
  app.post('/mgmt/sources', {config: {scope: 'admin'}}, async (req, reply) => reply.code(201).send(await service.sourceSet.add(req.body, req.actor!)))
  app.delete('/mgmt/sources/:name', {config: {scope: 'admin'}}, async (req) => service.sourceSet.remove((req.params as {name: string}).name))
  app.get('/metrics', {config: {scope: 'read'}}, async (_req, reply) => {
    const [counts, queue] = await Promise.all([service.store.countByState(), service.queue()])
    return reply.type('text/plain; version=0.0.4').send(prometheusText({counts, queue, requestCounts, clusters: service.links.statuses()}))
  })

  app.get('/mgmt/keys', {config: {scope: 'admin'}}, async () => ({
    keys: (await service.store.listKeys()).map((k) => ({name: k.name, scope: k.scope, createdAt: new Date(k.created_at).toISOString(), ...(k.revoked_at ? {revokedAt: new Date(k.revoked_at).toISOString()} : {})})),
  }))
  app.post('/mgmt/keys', {config: {scope: 'admin'}}, async (req, reply) => {
    const body = (req.body ?? {}) as {name?: unknown; scope?: unknown}
    if (typeof body.name !== 'string') throw new UsageError('name: required (a key name)')
    if (typeof body.scope !== 'string') throw new UsageError('scope: required (read, submit or admin)')
    const name = checkKeyName(body.name)
    const scope = checkScope(body.scope)
    const key = newKey()
    if (!(await service.store.createKey({name, scope, hash: hashKey(key), created_at: Date.now()}))) throw new ApiError(409, `a key named ${name} exists already`)
    return reply.code(201).send({name, scope, key})
  })
  app.delete('/mgmt/keys/:name', {config: {scope: 'admin'}}, async (req) => {
    const {name} = req.params as {name: string}
    if (!(await service.store.revokeKey(name))) throw new ApiError(404, `no active key named ${name}`)
    return {name, revoked: true}
  })
}
