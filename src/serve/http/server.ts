import Fastify, {LogController, type FastifyInstance} from 'fastify'
import multipart from '@fastify/multipart'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import type {TaskService} from '../service.js'
import {authHook} from './auth.js'
import {mgmtRoutes} from './mgmt.js'
import {openApiDocument} from './openapi.js'
import {scheduleRoutes} from './schedules.js'
import {taskRoutes} from './tasks.js'
import {uiRoutes} from '../ui/routes.js'

export interface ServerOptions {
  version: string
  maxUploadBytes: number
  /** JSON bodies (a /tasks batch) at most this big. */
  bodyLimitBytes: number
  tls?: {cert: Buffer; key: Buffer}
  logLevel: string
}

/**
 * The HTTP API: thin routes over the TaskService. Every route but /health needs an API key (auth.ts); errors are
 * JSON `{error}` with one line: 422 for bad input, 404/409 for the wrong task or state, 401/403 for keys.
 */
export async function buildServer(service: TaskService, opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.tls ? {https: {cert: opts.tls.cert, key: opts.tls.key}} : {}),
    bodyLimit: opts.bodyLimitBytes,
    logController: new LogController({disableRequestLogging: true}),
    logger: {
      level: opts.logLevel,
      stream: process.stderr,
      redact: {paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]'},
    },
    return503OnClosing: true,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance
  await app.register(multipart, {limits: {fileSize: opts.maxUploadBytes, files: 64, fields: 40, fieldSize: 1024 * 1024, parts: 110}})

  const requestCounts = new Map<string, number>()
  app.addHook('onRequest', authHook(service.store))
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown'
    const key = `${req.method} ${route} ${reply.statusCode}`
    requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1)
    // One line per request; the key's name, never the key.
    req.log.info({method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime), key: req.actor}, 'request')
  })

  app.setErrorHandler(async (error: Error & {statusCode?: number; code?: string}, req, reply) => {
    if (error instanceof UsageError) return reply.code(422).send({error: error.message.split('\n').join('; ')})
    if (error instanceof ApiError) return reply.code(error.status).send({error: error.message})
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return reply.code(422).send({error: `body: invalid JSON: ${error.message}`})
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return reply.code(422).send({error: 'body: empty (expected a JSON task)'})
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return reply.code(error.statusCode).send({error: error.message.split('\n')[0]})
    req.log.error({err: error}, 'request failed')
    return reply.code(500).send({error: `internal error: ${error.message.split('\n')[0]}`})
  })
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send({error: `no route ${req.method} ${req.url.split('?')[0]} (see GET /openapi.json)`}))

  app.get('/health', {config: {scope: 'public'}}, async (_req, reply) => {
    const h = await service.health()
    // A source whose backend is down is reported here, and does not make the service unhealthy.
    const sources = service.sources()
    return reply.code(h.ok ? 200 : 500).send({status: h.ok ? 'ok' : 'failing', ...(h.reason ? {reason: h.reason} : {}), loops: h.loops, ...(sources.length ? {sources} : {})})
  })
  const doc = openApiDocument(opts.version)
  app.get('/openapi.json', {config: {scope: 'read'}}, async () => doc)
  taskRoutes(app, {service, files: service.files, maxUploadBytes: opts.maxUploadBytes})
  scheduleRoutes(app, service, opts.maxUploadBytes)
  mgmtRoutes(app, service, requestCounts)
  uiRoutes(app, service, {secure: Boolean(opts.tls), maxUploadBytes: opts.maxUploadBytes})
  return app
}
