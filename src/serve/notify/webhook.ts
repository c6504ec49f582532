import {createHmac} from 'node:crypto'
import {z} from 'zod'

/** The events a task's webhook can be called on: an attempt failed (it may be retried), or the task ended. */
export const NOTIFY_EVENTS = ['failed', 'dead', 'succeeded', 'killed'] as const
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number]

/** The event a move into `state` is, if any. */
export function eventOfState(state: string): NotifyEvent | undefined {
  return ({FAILED: 'failed', DEAD: 'dead', SUCCEEDED: 'succeeded', KILLED: 'killed'} as const)[state as 'FAILED']
}

export const notifySchema = z.strictObject(
  {
    url: z
      .string({error: 'expected the http(s) URL to call'})
      .max(2048, {error: 'longer than 2048 characters'})
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol) && !new URL(u).username && !new URL(u).password, {error: 'expected an http(s) URL without a user or password in it'}),
    on: z.array(z.enum(NOTIFY_EVENTS, {error: `expected events among ${NOTIFY_EVENTS.join(', ')}`})).min(1, {error: 'name at least one event'}).optional(),
  },
  {error: 'expected {"url", "on"?}'},
)

export interface Notify {
  url: string
  on: NotifyEvent[]
}

/** When `on` is not given: the task's end, whichever it is. */
export const DEFAULT_NOTIFY_ON: NotifyEvent[] = ['succeeded', 'dead', 'killed']

/**
 * The signature header of a call: `t=UNIX_SECONDS,v1=HEX`, where HEX is the HMAC-SHA256 of `t.BODY` under the
 * server's secret (the receiver recomputes it, and refuses an old `t` to stop replays).
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`
}

/** Delay before retry `attempt` (1-based): 5 s doubling to at most 10 min. */
export function retryDelayMs(attempt: number): number {
  return Math.min(600_000, 5000 * 2 ** Math.max(0, attempt - 1))
}

/** Calls are given up after this many attempts (about an hour of retries). */
export const MAX_ATTEMPTS = 10
