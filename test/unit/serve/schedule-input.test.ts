import {describe, expect, it} from 'vitest'
import {parseCron} from '../../../src/serve/schedules/cron.js'
import {parseSchedule, runTaskId} from '../../../src/serve/schedules/schedule-input.js'
import {missedTicks, runNote, scheduleView} from '../../../src/serve/schedules/schedules.js'

const NOW = Date.parse('2026-12-03T20:00:30Z')
const task = {cluster: 'etl', spec: {app: 'https://example.org/pi.py'}}

describe('parseSchedule', () => {
  it('fills the defaults and computes the first run from now', () => {
    const {fields} = parseSchedule({name: 'nightly', cron: '0 2 * * *', task}, NOW)
    expect(fields).toMatchObject({name: 'nightly', cron: '0 2 * * *', time_zone: 'UTC', concurrency: 'allow', suspended: 0, history: 10, next_run_at: Date.parse('2026-12-04T02:00:00Z')})
    expect(JSON.parse(fields.task)).toEqual(task)
  })

  it('reads the time zone, the policy, suspend and history', () => {
    const {fields} = parseSchedule({name: 'b', cron: '0 2 * * *', timeZone: 'Europe/Berlin', task, concurrency: 'forbid', suspend: true, history: 0}, NOW)
    expect(fields).toMatchObject({time_zone: 'Europe/Berlin', concurrency: 'forbid', suspended: 1, history: 0, next_run_at: Date.parse('2026-12-04T01:00:00Z')})
  })

  it('a webhook on the schedule goes to every run\'s task; on both the schedule and its task, it is refused', () => {
    const notify = {url: 'https://hooks.example/x?token=secret', on: ['dead']}
    const {fields, task: runTask} = parseSchedule({name: 'n', cron: '@daily', task, notify}, NOW)
    expect(JSON.parse(fields.task)).toEqual({...task, notify})
    expect(runTask).toEqual({...task, notify})
    expect(() => parseSchedule({name: 'n', cron: '@daily', task: {...task, notify}, notify}, NOW)).toThrow('notify: give the webhook on the schedule or on its task, not both')
    const shown = scheduleView({name: 'n', cron: '@daily', time_zone: 'UTC', task: fields.task, concurrency: 'allow', suspended: 0, history: 10, next_run_at: 1, last_run_at: null, last_task_id: null, last_note: null, created_by: 'k', created_at: 1, updated_at: 1})
    expect(shown.task).toEqual({...task, notify: {on: ['dead'], origin: 'https://hooks.example'}})
    expect(JSON.stringify(shown)).not.toContain('secret')
  })

  it('takes the name from the URL on PUT, and refuses a different one in the body', () => {
    expect(parseSchedule({cron: '@daily', task}, NOW, 'x').fields.name).toBe('x')
    expect(() => parseSchedule({name: 'y', cron: '@daily', task}, NOW, 'x')).toThrow('name: y does not match the schedule in the URL (x)')
  })

  it.each([
    [{cron: '@daily', task}, 'name: '],
    [{name: 'a b', cron: '@daily', task}, 'name: must be 1-64 letters'],
    [{name: 'a', cron: '61 * * * *', task}, 'cron: minute field "61"'],
    [{name: 'a', cron: '0 0 30 2 *', task}, 'never runs'],
    [{name: 'a', cron: '@daily', timeZone: 'Nowhere/Land', task}, 'timeZone: Nowhere/Land is not a known IANA time zone'],
    [{name: 'a', cron: '@daily', task, concurrency: 'sometimes'}, 'concurrency: expected allow, forbid or replace'],
    [{name: 'a', cron: '@daily', task, history: 5000}, 'history: expected a whole number from 0 to 1000'],
    [{name: 'a', cron: '@daily', task: {...task, id: 'fixed'}}, 'task.id: a schedule gives each run its own id'],
    [{name: 'a', cron: '@daily', task, every: '5m'}, 'every: unknown field'],
    [{name: 'a', cron: '@daily'}, 'task: '],
  ])('refuses %j with one line', (raw, message) => {
    expect(() => parseSchedule(raw, NOW)).toThrow(message)
  })
})

describe('runs of a schedule', () => {
  it('a tick has one task id on every server', () => {
    expect(runTaskId('nightly', Date.parse('2026-12-04T01:00:00Z'))).toBe('nightly-20261204T0100Z')
  })

  it('counts the ticks missed while the service was down, and says so only when late', () => {
    const every = parseCron('* * * * *')
    const tick = Date.parse('2026-12-03T20:00:00Z')
    expect(missedTicks(every, 'UTC', tick, tick + 30_000)).toBe(0)
    expect(missedTicks(every, 'UTC', tick, tick + 5 * 60_000 + 1)).toBe(5)
    expect(missedTicks(every, 'UTC', tick, tick + 5000 * 60_000, 1000)).toBe(1000)
    expect(runNote('n', tick, tick + 2000, 0)).toBe('run of schedule n due at 2026-12-03T20:00:00.000Z')
    expect(runNote('n', tick, tick + 25_000, 0)).toBe('run of schedule n due at 2026-12-03T20:00:00.000Z, started 25 s late (the service was not running then)')
    expect(runNote('n', tick, tick + 5 * 60_000, 4)).toBe('run of schedule n due at 2026-12-03T20:00:00.000Z, started 5 min late (the service was not running then); 4 later ticks missed meanwhile are not made up')
  })
})
