import type {RunOptions} from '../cluster/context.js'
import {UsageError} from '../remote/errors.js'
import type {ScheduleView} from './schedules/schedules.js'
import {TaskService} from './service.js'

/** `cms serve schedule ...`: the same operations on the service's database directly, or on a server over HTTP. */
export interface ScheduleClient {
  add(body: Record<string, unknown>): Promise<ScheduleView>
  list(): Promise<{schedules: ScheduleView[]}>
  remove(name: string): Promise<{name: string; deleted: true}>
  close(): Promise<void>
}

export type ScheduleTarget = {url: string; key: string | undefined} | {db: string; dataDir: string; run: RunOptions}

export async function openScheduleClient(target: ScheduleTarget): Promise<ScheduleClient> {
  if ('url' in target) return httpClient(target.url, target.key)
  // The database opened as a server opens it (migrated), and the task checked as POST /task checks it; no loop runs.
  const service = await TaskService.open({db: target.db, dataDir: target.dataDir, run: target.run, retainMs: 0, log: target.run.log})
  return {
    add: (body) => service.schedules.create(body, 'cli'),
    list: () => service.schedules.list(),
    remove: (name) => service.schedules.remove(name),
    close: () => service.stop(),
  }
}

function httpClient(base: string, key: string | undefined): ScheduleClient {
  if (!/^https?:\/\/[^/]+/.test(base)) throw new UsageError(`--url: expected http(s)://HOST:PORT of a cms serve, got ${base}`)
  if (!key) throw new UsageError('--url needs an API key in the environment variable CMS_SERVE_KEY (never on the command line)')
  const root = base.replace(/\/+$/, '')
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers: {authorization: `Bearer ${key}`, ...(body === undefined ? {} : {'content-type': 'application/json'})},
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      })
    } catch (error) {
      const cause = (error as {cause?: {code?: string; message?: string}}).cause
      throw new Error(`cannot reach cms serve at ${root}: ${cause?.code ?? cause?.message ?? (error as Error).message}`)
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (!response.ok) {
      const line = (parsed as {error?: string} | undefined)?.error ?? `HTTP ${response.status}`
      throw response.status < 500 ? new UsageError(line) : new Error(`cms serve at ${root}: ${line}`)
    }
    return parsed as T
  }
  return {
    add: (body) => call('POST', '/schedules', body),
    list: () => call('GET', '/schedules'),
    remove: (name) => call('DELETE', `/schedules/${encodeURIComponent(name)}`),
    close: async () => undefined,
  }
}
