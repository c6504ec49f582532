import {z} from 'zod'
import {UsageError} from '../../remote/errors.js'
import {issuesLine} from '../task-input.js'
import {checkTimeZone, nextRun, parseCron} from './cron.js'
import type {ScheduleFields} from '../store/schedule-store.js'

export const SCHEDULE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const scheduleSchema = z.strictObject({
  name: z.string().regex(SCHEDULE_NAME_RE, {error: 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'}),
  cron: z.string({error: 'expected a cron expression such as "0 2 * * *"'}),
  timeZone: z.string({error: 'expected an IANA time zone such as "Europe/Berlin"'}).optional(),
  task: z.record(z.string(), z.unknown(), {error: 'expected a task (as POST /task takes it)'}),
  concurrency: z.enum(['allow', 'forbid', 'replace'], {error: 'expected allow, forbid or replace'}).optional(),
  suspend: z.boolean({error: 'expected true or false'}).optional(),
  history: z.int({error: 'expected a whole number from 0 to 1000'}).min(0, {error: 'expected a whole number from 0 to 1000'}).max(1000, {error: 'expected a whole number from 0 to 1000'}).optional(),
  /** A webhook for every run: the same as the task's own `notify` (checked with the task). */
  notify: z.record(z.string(), z.unknown(), {error: 'expected {url, on}'}).optional(),
})

export type ScheduleInput = z.output<typeof scheduleSchema>
const FIELDS = Object.keys(scheduleSchema.shape)

/** Finished runs kept per schedule when it does not say. */
export const DEFAULT_HISTORY = 10

/**
 * A schedule as the API takes it, checked (the cron expression, the time zone; the task is checked by the caller
 * as POST /task checks it) and turned into its row, with its first run computed from `now`. `name` comes from the
 * URL on PUT: the body's name, when given, must match it.
 */
export function parseSchedule(raw: unknown, now: number, nameFromUrl?: string): {fields: ScheduleFields; task: Record<string, unknown>} {
  const body = nameFromUrl !== undefined && raw && typeof raw === 'object' && !Array.isArray(raw) && !('name' in raw) ? {...raw, name: nameFromUrl} : raw
  const parsed = scheduleSchema.safeParse(body)
  if (!parsed.success) throw new UsageError(issuesLine('', parsed.error.issues, FIELDS))
  const s = parsed.data
  if (nameFromUrl !== undefined && s.name !== nameFromUrl) throw new UsageError(`name: ${s.name} does not match the schedule in the URL (${nameFromUrl})`)
  const cron = parseCron(s.cron)
  const zone = checkTimeZone(s.timeZone ?? 'UTC')
  const next = nextRun(cron, zone, now)
  if (next === undefined) throw new UsageError(`cron: "${s.cron}" never runs (no such date within eight years)`)
  if ('id' in s.task) throw new UsageError('task.id: a schedule gives each run its own id; leave id out')
  if (s.notify && 'notify' in s.task) throw new UsageError('notify: give the webhook on the schedule or on its task, not both')
  const task = s.notify ? {...s.task, notify: s.notify} : s.task
  return {
    fields: {
      name: s.name,
      cron: cron.source,
      time_zone: zone,
      task: JSON.stringify(task),
      concurrency: s.concurrency ?? 'allow',
      suspended: s.suspend ? 1 : 0,
      history: s.history ?? DEFAULT_HISTORY,
      next_run_at: next,
    },
    task,
  }
}

/** The id of a schedule's run for one tick: the same on every server, so a tick can never queue two tasks. */
export function runTaskId(schedule: string, tick: number): string {
  return `${schedule}-${new Date(tick).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`
}
