import {createHmac} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {eventOfState, notifySchema, retryDelayMs, signature} from '../../../src/serve/notify/webhook.js'
import {parseTask} from '../../../src/serve/task-input.js'

describe('webhooks', () => {
  it('signs t.BODY with HMAC-SHA256 under the secret', () => {
    const expected = createHmac('sha256', 's'.repeat(32)).update('1700000000.{"a":1}').digest('hex')
    expect(signature('s'.repeat(32), '{"a":1}', 1_700_000_000)).toBe(`t=1700000000,v1=${expected}`)
    expect(signature('t'.repeat(32), '{"a":1}', 1_700_000_000)).not.toBe(signature('s'.repeat(32), '{"a":1}', 1_700_000_000))
  })

  it('maps states to events and backs off from 5 s to 10 min', () => {
    expect(['FAILED', 'DEAD', 'SUCCEEDED', 'KILLED', 'RUNNING', 'QUEUED'].map(eventOfState)).toEqual(['failed', 'dead', 'succeeded', 'killed', undefined, undefined])
    expect([1, 2, 3, 8, 20].map(retryDelayMs)).toEqual([5000, 10_000, 20_000, 600_000, 600_000])
  })

  it('a task names an http(s) URL and events; the end of the task by default', () => {
    expect(parseTask({cluster: 'etl', spec: {app: 'https://e.org/a.py'}, notify: {url: 'https://hooks.example/x?token=1'}}).notify).toEqual({url: 'https://hooks.example/x?token=1', on: ['succeeded', 'dead', 'killed']})
    expect(parseTask({cluster: 'etl', spec: {app: 'https://e.org/a.py'}, notify: {url: 'http://127.0.0.1:9/h', on: ['failed', 'failed']}}).notify).toEqual({url: 'http://127.0.0.1:9/h', on: ['failed']})
    for (const [notify, message] of [
      [{url: 'ftp://x/y'}, 'notify.url: expected an http(s) URL'],
      [{url: 'https://user:pw@x/y'}, 'without a user or password'],
      [{url: 'https://x/y', on: ['sometimes']}, 'notify.on.0: expected events among failed, dead, succeeded, killed'],
      [{url: 'https://x/y', on: []}, 'notify.on: name at least one event'],
      [{url: 'https://x/y', secret: 'no'}, 'notify.secret: unknown field'],
    ] as const) {
      expect(() => parseTask({cluster: 'etl', spec: {app: 'https://e.org/a.py'}, notify})).toThrow(message)
    }
    expect(notifySchema.safeParse({url: 'https://x'}).success).toBe(true)
  })
})
