import {describe, expect, it} from 'vitest'
import {KILL_AGAIN_MS, underKill} from '../../../src/serve/queue/kill-intent.js'

describe('underKill: a task whose kill was asked for, by what the engine reports of its job', () => {
  const sent = 1_000_000

  it('a job that ended ends the task: KILLED whether the engine says killed or failed, never retried; SUCCEEDED if it finished first', () => {
    expect(underKill('KILLED', sent, sent + 1)).toBe('killed')
    expect(underKill('FAILED', sent, sent + 1)).toBe('killed')
    expect(underKill('SUCCEEDED', sent, sent + 1)).toBe('succeeded')
    // However long ago the kill was sent.
    expect(underKill('FAILED', sent, sent + 10 * KILL_AGAIN_MS)).toBe('killed')
  })

  it('a job that still runs (or whose state the engine cannot tell) is told again once the kill is KILL_AGAIN_MS old', () => {
    for (const state of ['SUBMITTED', 'RUNNING', undefined] as const) {
      expect(underKill(state, sent, sent)).toBe('wait')
      expect(underKill(state, sent, sent + KILL_AGAIN_MS - 1)).toBe('wait')
      expect(underKill(state, sent, sent + KILL_AGAIN_MS)).toBe('kill-again')
    }
  })
})
