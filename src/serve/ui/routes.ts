import {randomBytes} from 'node:crypto'
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import {grants, hashKey, isScope, type Scope} from '../keys.js'
import {createKeyIn, keyView} from '../key-admin.js'
import type {TaskService} from '../service.js'
import {hourlyStats} from '../store/stats.js'
import {APP_CSS, APP_JS} from './assets.js'
import {html, type Html} from './html.js'
import {page} from './layout.js'
import {MultipartForm} from './multipart-form.js'
import {clustersPage} from './pages/clusters.js'
import {keysPage} from './pages/keys.js'
import {loginPage} from './pages/login.js'
import {schedulesPage} from './pages/schedules.js'
import {sourcesPage} from './pages/sources.js'
import {submitPage, type ClusterChoice} from './pages/submit.js'
import {taskPage} from './pages/task.js'
import {tasksPage, type TasksFilter} from './pages/tasks.js'
import {cookieValue, sameToken, SESSION_COOKIE, sessionCookie, Sessions, type Session} from './session.js'
import {errorsByField, FormError, taskFromForm, type SubmitFields, type SubmitUploads} from './submit-form.js'
import {streamLogs} from '../http/tasks.js'

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session
  }
}

const LOGIN_CSRF_COOKIE = 'cms_login_csrf'
const MAX_JOBFILE_BYTES = 1024 * 1024
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/**
 * The dashboard, served by `cms serve` under /ui: server-made HTML over the same use-cases as the API. A session
 * cookie (made by logging in with an API key) stands in for the key; every form carries the session's CSRF token;
 * pages and buttons a key's scope does not allow are not shown, and their routes answer 403.
 */
export function uiRoutes(app: FastifyInstance, service: TaskService, opts: {secure: boolean; maxUploadBytes: number}): void {
  const sessions = new Sessions(service.store.db)
  app.addContentTypeParser('application/x-www-form-urlencoded', {parseAs: 'string', bodyLimit: 2 * 1024 * 1024}, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  /** Finds the session; sends the login page (GET) or 403 when there is none or its scope is too small. */
  app.addHook('preHandler', async (req, reply) => {
    const need = req.routeOptions.config?.ui
    if (need === undefined) return
    void reply.headers(SECURITY_HEADERS)
    if (need === 'none') return
    const session = await sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE))
    if (!session) {
      if (req.method === 'GET') return reply.redirect(`/ui/login?next=${encodeURIComponent(req.url)}`, 303)
      return sendPage(reply, 401, {title: 'Logged out', body: html`<h1>Logged out</h1><p>Your session has ended. <a href="/ui/login">Log in</a> again.</p>`})
    }
    if (!grants(session.scope, need)) return sendPage(reply, 403, {title: 'Not allowed', session, body: html`<h1>Not allowed</h1><p>Key ${session.keyName} has scope ${session.scope}; this page needs ${need}.</p>`})
    req.session = session
    req.actor = session.keyName
    req.scope = session.scope
    // Every form post carries the session's CSRF token (multipart forms: checked as their first field).
    if (req.method === 'POST' && !req.isMultipart()) {
      const token = (req.body as Record<string, string> | undefined)?._csrf
      if (!sameToken(token, session.csrf)) return sendPage(reply, 403, {title: 'Refused', session, body: html`<h1>Refused</h1><p>The form's CSRF token is missing or wrong: reload the page and try again.</p>`})
    }
  })

  const ui = (scope: Scope | 'none') => ({config: {ui: scope}})
  /** GET pages: the whole page, or only its main part when the page's script refreshes it. */
  const show = (reply: FastifyReply, req: FastifyRequest, p: {title: string; section?: string; body: Html; refreshMs?: number}, status = 200) =>
    req.headers['x-cms-fragment'] === '1' ? reply.code(status).type('text/html; charset=utf-8').send(p.body.text) : sendPage(reply, status, {...p, session: req.session})
  const notice = (req: FastifyRequest) => (req.query as {notice?: string}).notice?.slice(0, 300)

  app.get('/ui', ui('none'), async (_req, reply) => reply.redirect('/ui/tasks', 303))
  app.get('/ui/app.css', ui('none'), async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(APP_CSS))
  app.get('/ui/app.js', ui('none'), async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=300').send(APP_JS))

  // ---- login ------------------------------------------------------------------------------------------------------
  const loginForm = (reply: FastifyReply, status: number, input: {error?: string; next?: string}) => {
    const token = randomBytes(24).toString('base64url')
    void reply.header('set-cookie', `${LOGIN_CSRF_COOKIE}=${token}; Path=/ui/login; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`)
    return sendPage(reply, status, {title: 'Log in', body: loginPage({...input, csrf: token})})
  }
  app.get('/ui/login', ui('none'), async (req, reply) => loginForm(reply, 200, {next: safeNext((req.query as {next?: string}).next)}))
  app.post('/ui/login', ui('none'), async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>
    const next = safeNext(body.next)
    if (!sameToken(body._csrf, cookieValue(req.headers.cookie, LOGIN_CSRF_COOKIE) ?? '')) return loginForm(reply, 403, {error: 'The login form expired: try again.', next})
    const row = body.key ? await service.store.keyByHash(hashKey(body.key.trim())) : undefined
    if (!row || row.revoked_at !== null || !isScope(row.scope)) return loginForm(reply, 401, {error: 'That key is not valid (or was revoked).', next})
    const {id} = await sessions.create(row.name)
    return reply.header('set-cookie', sessionCookie(id, opts.secure)).redirect(next, 303)
  })
  app.post('/ui/logout', ui('read'), async (req, reply) => {
    await sessions.end(cookieValue(req.headers.cookie, SESSION_COOKIE))
    return reply.header('set-cookie', sessionCookie('', opts.secure)).redirect('/ui/login', 303)
  })

  // ---- tasks ------------------------------------------------------------------------------------------------------
  app.get('/ui/tasks', ui('read'), async (req, reply) => {
    const q = req.query as Record<string, string | undefined>
    const filter: TasksFilter = {state: q.state || undefined, cluster: q.cluster || undefined, name: q.name || undefined, cursor: q.cursor || undefined}
    const cursor = filter.cursor && /^\d+$/.test(filter.cursor) ? Number(filter.cursor) : undefined
    const state = filter.state && /^[A-Z]+$/.test(filter.state) ? (filter.state as never) : undefined
    const [list, known, stats] = await Promise.all([
      service.list({state, cluster: filter.cluster, name: filter.name, limit: 100, cursor}),
      service.links.known(),
      hourlyStats(service.store.db, Date.now()),
    ])
    // Queue position and wait reason for the queued ones on this page (each is one query: the first 50).
    const tasks = await Promise.all(list.tasks.map(async (t, i) => (t.state === 'QUEUED' && i < 50 ? {...t, queue: await service.queueOf(t.id)} : t)))
    return show(reply, req, {title: 'Tasks', section: '/ui/tasks', refreshMs: 5000, body: tasksPage({tasks, nextCursor: list.nextCursor, filter, clusters: known.map((c) => c.name).sort(), stats, notice: notice(req)})})
  })

  const taskId = (req: FastifyRequest) => (req.params as {id: string}).id
  const showTask = async (req: FastifyRequest, reply: FastifyReply, extra: {error?: string; status?: number} = {}) => {
    const id = taskId(req)
    const [task, events] = await Promise.all([service.task(id), service.events(id)])
    const done = ['SUCCEEDED', 'KILLED', 'DEAD'].includes(task.state)
    return show(reply, req, {title: `Task ${id}`, section: '/ui/tasks', refreshMs: done ? undefined : 3000, body: taskPage({task, events, session: req.session!, notice: notice(req), error: extra.error})}, extra.status)
  }
  app.get('/ui/task/:id', ui('read'), async (req, reply) => guard(req, reply, () => showTask(req, reply)))
  app.get('/ui/task/:id/logs', ui('read'), async (req, reply) => streamLogs(service, req, reply))
  /** A change from a task page's button: back to the page with what happened, or the page again with the error. */
  const taskAction = (path: string, scope: Scope, act: (req: FastifyRequest) => Promise<string>) =>
    app.post(`/ui/task/:id/${path}`, ui(scope), async (req, reply) => {
      try {
        const done = await act(req)
        return reply.redirect(path === 'delete' ? `/ui/tasks?notice=${encodeURIComponent(done)}` : `/ui/task/${encodeURIComponent(taskId(req))}?notice=${encodeURIComponent(done)}`, 303)
      } catch (error) {
        if (!(error instanceof ApiError || error instanceof UsageError)) throw error
        return guard(req, reply, () => showTask(req, reply, {error: error.message, status: error instanceof ApiError ? error.status : 422}))
      }
    })
  taskAction('kill', 'submit', async (req) => `killed (now ${(await service.cancel(taskId(req), req.actor!)).state})`)
  taskAction('rerun', 'submit', async (req) => `queued again (now ${(await service.rerun(taskId(req), req.actor!)).state})`)
  taskAction('delete', 'submit', async (req) => `task ${(await service.deleteTask(taskId(req))).id} deleted`)
  taskAction('priority', 'submit', async (req) => {
    const raw = ((req.body ?? {}) as Record<string, string>).priority ?? ''
    if (!/^\d+$/.test(raw) || Number(raw) > 1000) throw new UsageError('priority: expected a whole number from 0 to 1000')
    return `priority set to ${(await service.setPriority(taskId(req), Number(raw), req.actor!)).priority}`
  })

  // ---- submit -----------------------------------------------------------------------------------------------------
  const clusterChoices = async (): Promise<ClusterChoice[]> =>
    (await service.clusters()).map((c) => ({
      name: c.name,
      engine: c.engine,
      health: c.down ? 'down' : c.health,
      ...(c.capacity ? {freeCores: Math.max(0, c.capacity.cores - c.capacity.usedCores), freeMemoryMb: Math.max(0, c.capacity.memoryMb - c.capacity.usedMemoryMb)} : {}),
    }))
  app.get('/ui/submit', ui('submit'), async (req, reply) => show(reply, req, {title: 'Submit', section: '/ui/submit', body: submitPage({session: req.session!, clusters: await clusterChoices()})}))
  const forged = (reply: FastifyReply, req: FastifyRequest) => sendPage(reply, 403, {title: 'Refused', session: req.session, body: html`<h1>Refused</h1><p>The form's CSRF token is missing or wrong: reload the page and try again.</p>`})
  const multipartForm = (req: FastifyRequest) => new MultipartForm({csrf: req.session!.csrf, files: service.files, store: service.store, maxUploadBytes: opts.maxUploadBytes})
  app.post('/ui/submit', ui('submit'), async (req, reply) => {
    if (!req.isMultipart()) return sendPage(reply, 415, {title: 'Refused', session: req.session, body: html`<h1>Refused</h1><p>The submit form posts multipart/form-data.</p>`})
    const form = multipartForm(req)
    const uploads: SubmitUploads = {files: []}
    try {
      const genuine = await form.read(req, async (part, store) => {
        if (part.fieldname === 'jobfile') {
          const chunks: Buffer[] = []
          let size = 0
          for await (const chunk of part.file as AsyncIterable<Buffer>) {
            size += chunk.length
            if (size > MAX_JOBFILE_BYTES) throw new FormError('jobfileText', 'the uploaded jobfile is larger than 1 MiB')
            chunks.push(chunk)
          }
          uploads.jobfile = {name: part.filename, content: Buffer.concat(chunks).toString('utf8')}
          return
        }
        if (part.fieldname !== 'app' && part.fieldname !== 'files') throw new FormError('form', `${part.fieldname}: unknown file field`)
        await store(part.fieldname === 'app' ? 'appUrl' : 'files')
        if (part.fieldname === 'app') uploads.app = part.filename
        else uploads.files.push(part.filename)
      })
      if (!genuine) return forged(reply, req)
      const raw = taskFromForm(form.fields as SubmitFields, uploads)
      const [{task}] = await service.submit([{raw, uploads: form.stored}], req.actor!, false)
      return reply.redirect(`/ui/task/${encodeURIComponent(task.id)}?notice=${encodeURIComponent('queued')}`, 303)
    } catch (error) {
      await form.discard()
      const message = error instanceof FormError ? error.message : error instanceof UsageError || error instanceof ApiError ? error.message : undefined
      if (message === undefined) throw error
      const errors = error instanceof FormError ? {[error.field]: [error.message]} : errorsByField(message)
      return show(reply, req, {title: 'Submit', section: '/ui/submit', body: submitPage({session: req.session!, clusters: await clusterChoices(), values: form.fields as SubmitFields, errors})}, 422)
    }
  })

  // ---- schedules --------------------------------------------------------------------------------------------------
  const showSchedules = async (req: FastifyRequest, reply: FastifyReply, extra: {error?: string; values?: Record<string, string>; status?: number} = {}) =>
    show(reply, req, {title: 'Schedules', section: '/ui/schedules', refreshMs: extra.error ? undefined : 10_000, body: schedulesPage({schedules: (await service.schedules.list()).schedules, session: req.session!, notice: notice(req), ...extra})}, extra.status)
  app.get('/ui/schedules', ui('read'), async (req, reply) => showSchedules(req, reply))
  app.post('/ui/schedules', ui('submit'), async (req, reply) => {
    if (!req.isMultipart()) return sendPage(reply, 415, {title: 'Refused', session: req.session, body: html`<h1>Refused</h1><p>The schedule form posts multipart/form-data.</p>`})
    const form = multipartForm(req)
    try {
      const genuine = await form.read(req, async (part, store) => {
        if (part.fieldname !== 'files') throw new FormError('form', `${part.fieldname}: unknown file field`)
        await store('files')
      })
      if (!genuine) return forged(reply, req)
      const body = form.fields
      let task: unknown
      try {
        task = JSON.parse(body.task ?? '')
      } catch (error) {
        throw new UsageError(`task: invalid JSON: ${(error as Error).message}`)
      }
      const view = await service.schedules.create({name: body.name, cron: body.cron, timeZone: body.timeZone || undefined, concurrency: body.concurrency || undefined, task}, req.actor!, form.stored)
      service.schedulesChanged()
      return reply.redirect(`/ui/schedules?notice=${encodeURIComponent(`schedule ${view.name} added; next run ${view.nextRunAt ?? 'never'}`)}`, 303)
    } catch (error) {
      await form.discard()
      if (!(error instanceof UsageError || error instanceof ApiError || error instanceof FormError)) throw error
      return showSchedules(req, reply, {error: error.message, values: form.fields, status: error instanceof ApiError ? error.status : 422})
    }
  })
  const scheduleName = (req: FastifyRequest) => (req.params as {name: string}).name
  app.post('/ui/schedules/:name/run', ui('submit'), async (req, reply) => {
    const task = await service.schedules.runNow(scheduleName(req), req.actor!).catch((error: Error) => error)
    if (task instanceof Error) return showSchedules(req, reply, {error: task.message, status: task instanceof ApiError ? task.status : 422})
    return reply.redirect(`/ui/task/${encodeURIComponent(task.id)}?notice=${encodeURIComponent('queued by hand')}`, 303)
  })
  app.post('/ui/schedules/:name/delete', ui('submit'), async (req, reply) => {
    const done = await service.schedules.remove(scheduleName(req)).catch((error: Error) => error)
    if (done instanceof Error) return showSchedules(req, reply, {error: done.message, status: done instanceof ApiError ? done.status : 422})
    return reply.redirect(`/ui/schedules?notice=${encodeURIComponent(`schedule ${done.name} deleted`)}`, 303)
  })

  // ---- clusters and keys ------------------------------------------------------------------------------------------
  const showSources = (req: FastifyRequest, reply: FastifyReply, extra: {error?: string; status?: number} = {}) =>
    show(reply, req, {title: 'Sources', section: '/ui/sources', refreshMs: extra.error ? undefined : 5000, body: sourcesPage({sources: service.sources(), session: req.session!, notice: notice(req), ...extra})}, extra.status)
  app.get('/ui/sources', ui('read'), async (req, reply) => showSources(req, reply))
  app.post('/ui/sources/:name/delete', ui('admin'), async (req, reply) => {
    const done = await service.sourceSet.remove((req.params as {name: string}).name).catch((error: Error) => error)
    if (done instanceof Error) {
      if (!(done instanceof ApiError || done instanceof UsageError)) throw done
      return showSources(req, reply, {error: done.message, status: done instanceof ApiError ? done.status : 422})
    }
    return reply.redirect(`/ui/sources?notice=${encodeURIComponent(`source ${done.name} removed`)}`, 303)
  })
  app.get('/ui/clusters', ui('read'), async (req, reply) => show(reply, req, {title: 'Clusters', section: '/ui/clusters', refreshMs: 5000, body: clustersPage({clusters: await service.clusters()})}))

  const showKeys = async (req: FastifyRequest, reply: FastifyReply, extra: {created?: {name: string; key: string}; error?: string; status?: number} = {}) =>
    show(reply, req, {title: 'Keys', section: '/ui/keys', body: keysPage({keys: (await service.store.listKeys()).map(keyView), session: req.session!, notice: notice(req), ...extra})}, extra.status)
  app.get('/ui/keys', ui('admin'), async (req, reply) => showKeys(req, reply))
  app.post('/ui/keys', ui('admin'), async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>
    try {
      const created = await createKeyIn(service.store, (body.name ?? '').trim(), body.scope ?? '')
      return showKeys(req, reply, {created, status: 201})
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      return showKeys(req, reply, {error: error.message, status: 422})
    }
  })
  app.post('/ui/keys/:name/revoke', ui('admin'), async (req, reply) => {
    const name = (req.params as {name: string}).name
    if (name === req.session!.keyName) return showKeys(req, reply, {error: 'a key cannot revoke itself here (use cms serve keys revoke)', status: 409})
    const revoked = await service.store.revokeKey(name)
    return reply.redirect(`/ui/keys?notice=${encodeURIComponent(revoked ? `key ${name} revoked` : `no active key named ${name}`)}`, 303)
  })
}

/** Renders a task page's failures (a task that is gone, say) as a page, not as the API's JSON. */
async function guard(req: FastifyRequest, reply: FastifyReply, fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fn()
  } catch (error) {
    if (!(error instanceof ApiError || error instanceof UsageError)) throw error
    const status = error instanceof ApiError ? error.status : 422
    return sendPage(reply, status, {title: 'Not found', session: req.session, body: html`<h1>${status === 404 ? 'Not found' : 'Refused'}</h1><p>${error.message}</p><p><a href="/ui/tasks">All tasks</a></p>`})
  }
}

function sendPage(reply: FastifyReply, status: number, p: {title: string; section?: string; session?: Session; body: Html; refreshMs?: number}): FastifyReply {
  return reply.code(status).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(page(p))
}

/** Where to go after logging in: a dashboard path only (never another site). */
function safeNext(next: string | undefined): string {
  return next && /^\/ui(\/[\w\-./%?=&]*)?$/.test(next) && !next.startsWith('//') ? next : '/ui/tasks'
}
