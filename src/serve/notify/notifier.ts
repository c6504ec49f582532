import type {Db} from '../store/db.js'
import {mapLimit} from '../../remote/fanout.js'
import {MAX_ATTEMPTS, retryDelayMs, signature} from './webhook.js'

interface NotificationRow {
  id: number
  task_id: string
  event: string
  state: string
  detail: string | null
  url: string
  at: number
  attempts: number
  next_at: number
}

export interface NotifierOptions {
  secret: string
  /** The task's JSON as GET /task/{id} shows it now (undefined when it was deleted meanwhile). */
  taskJson: (id: string) => Promise<unknown>
  log: (line: string) => void
  /** Each call may take this long (ms). */
  timeoutMs?: number
}

/** A call is leased this long while it is being made, so a second server does not make it too. */
const LEASE_MS = 60_000
const BATCH = 20

/**
 * Sends the webhook calls the outbox holds: a JSON POST `{event, at, state, detail, task}` signed with the server's
 * secret (header x-cms-signature), retried with a backoff until the receiver answers 2xx, then given up after
 * MAX_ATTEMPTS. The URL is never logged (it may hold a token): only its origin.
 */
export class Notifier {
  constructor(
    private readonly db: Db,
    private readonly opts: NotifierOptions,
  ) {}

  async step(now = Date.now()): Promise<void> {
    const due = await this.db.all<NotificationRow>('SELECT * FROM notifications WHERE next_at IS NOT NULL AND next_at <= $1 ORDER BY id LIMIT $2', [now, BATCH])
    await mapLimit(due, 4, async (n) => {
      // Take it: whoever moves next_at on from what it read makes the call.
      const taken = await this.db.run('UPDATE notifications SET next_at = $1 WHERE id = $2 AND next_at = $3', [now + LEASE_MS, n.id, n.next_at])
      if (taken === 1) await this.send(n)
    })
  }

  private async send(n: NotificationRow): Promise<void> {
    const body = JSON.stringify({event: n.event, at: new Date(Number(n.at)).toISOString(), state: n.state, ...(n.detail ? {detail: n.detail} : {}), task: await this.opts.taskJson(n.task_id).catch(() => undefined)})
    const attempt = n.attempts + 1
    let failure: string | undefined
    try {
      const response = await fetch(n.url, {
        method: 'POST',
        headers: {'content-type': 'application/json', 'user-agent': 'cms-serve', 'x-cms-event': n.event, 'x-cms-delivery': String(n.id), 'x-cms-signature': signature(this.opts.secret, body, Math.floor(Date.now() / 1000))},
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      })
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok) failure = `HTTP ${response.status}`
    } catch (error) {
      const cause = (error as {cause?: {code?: string}}).cause
      failure = cause?.code ?? (error as Error).name ?? 'failed'
    }
    if (failure === undefined) {
      await this.db.run('UPDATE notifications SET attempts = $1, sent_at = $2, next_at = NULL, last_error = NULL WHERE id = $3', [attempt, Date.now(), n.id])
      return
    }
    const giveUp = attempt >= MAX_ATTEMPTS
    await this.db.run('UPDATE notifications SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4', [attempt, giveUp ? null : Date.now() + retryDelayMs(attempt), failure, n.id])
    this.opts.log(`webhook ${n.event} of task ${n.task_id} to ${originOf(n.url)}: ${failure}${giveUp ? `; given up after ${attempt} attempts` : `; retry ${attempt} of ${MAX_ATTEMPTS - 1} in ${Math.round(retryDelayMs(attempt) / 1000)} s`}`)
  }
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return '(a bad URL)'
  }
}
