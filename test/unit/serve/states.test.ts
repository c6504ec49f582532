import {describe, expect, it} from 'vitest'
import {ACTIVE, FINISHED, TASK_STATES, afterFailure, canMove, isTaskState, taskStateOfJob, type TaskState} from '../../../src/serve/queue/states.js'

/** Every move the state machine allows, as documented: the life of a task, a failed attempt's retry, a rerun. */
const ALLOWED: ReadonlyArray<[TaskState, TaskState]> = [
  ['QUEUED', 'SUBMITTED'],
  ['QUEUED', 'KILLED'],
  ['SUBMITTED', 'RUNNING'],
  ['SUBMITTED', 'SUCCEEDED'],
  ['SUBMITTED', 'FAILED'],
  ['SUBMITTED', 'KILLED'],
  ['SUBMITTED', 'QUEUED'],
  ['RUNNING', 'SUCCEEDED'],
  ['RUNNING', 'FAILED'],
  ['RUNNING', 'KILLED'],
  ['FAILED', 'QUEUED'],
  ['FAILED', 'DEAD'],
  ['SUCCEEDED', 'QUEUED'],
  ['KILLED', 'QUEUED'],
  ['DEAD', 'QUEUED'],
]

describe('task states', () => {
  it('lists the seven states in life order', () => {
    expect([...TASK_STATES]).toEqual(['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'DEAD'])
    expect([...FINISHED].sort()).toEqual(['DEAD', 'KILLED', 'SUCCEEDED'])
    expect([...ACTIVE].sort()).toEqual(['RUNNING', 'SUBMITTED'])
  })

  it.each(ALLOWED)('canMove %s -> %s', (from, to) => {
    expect(canMove(from, to)).toBe(true)
  })

  it('allows exactly the documented moves and nothing else (the full 7 x 7 table)', () => {
    const allowed = new Set(ALLOWED.map(([a, b]) => `${a}->${b}`))
    const actual: string[] = []
    for (const from of TASK_STATES) for (const to of TASK_STATES) if (canMove(from, to)) actual.push(`${from}->${to}`)
    expect(actual.sort()).toEqual([...allowed].sort())
  })

  it.each([
    ['QUEUED', 'RUNNING'],
    ['QUEUED', 'SUCCEEDED'],
    ['QUEUED', 'FAILED'],
    ['QUEUED', 'DEAD'],
    ['QUEUED', 'QUEUED'],
    ['RUNNING', 'QUEUED'],
    ['RUNNING', 'SUBMITTED'],
    ['RUNNING', 'DEAD'],
    ['SUCCEEDED', 'FAILED'],
    ['SUCCEEDED', 'RUNNING'],
    ['KILLED', 'RUNNING'],
    ['DEAD', 'SUBMITTED'],
    ['FAILED', 'SUBMITTED'],
    ['FAILED', 'KILLED'],
  ] as Array<[TaskState, TaskState]>)('refuses %s -> %s', (from, to) => {
    expect(canMove(from, to)).toBe(false)
  })

  it('isTaskState knows the states, case-sensitively', () => {
    for (const s of TASK_STATES) expect(isTaskState(s)).toBe(true)
    expect(isTaskState('queued')).toBe(false)
    expect(isTaskState('PENDING')).toBe(false)
    expect(isTaskState('')).toBe(false)
  })
})

describe('afterFailure', () => {
  it('retries 2: runs 1 and 2 go back to the queue, run 3 is dead', () => {
    expect(afterFailure(1, 2)).toBe('QUEUED')
    expect(afterFailure(2, 2)).toBe('QUEUED')
    expect(afterFailure(3, 2)).toBe('DEAD')
  })

  it('retries 0: the first failure is final', () => {
    expect(afterFailure(1, 0)).toBe('DEAD')
  })

  it('retries 10 (the most a task may ask): 11 runs in all', () => {
    expect(afterFailure(10, 10)).toBe('QUEUED')
    expect(afterFailure(11, 10)).toBe('DEAD')
  })
})

describe('taskStateOfJob', () => {
  it.each(['SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED'])('%s maps to itself', (s) => {
    expect(taskStateOfJob(s)).toBe(s)
  })

  it.each(['UNKNOWN', 'running', 'QUEUED', 'DEAD', ''])('%j changes nothing (undefined)', (s) => {
    expect(taskStateOfJob(s)).toBeUndefined()
  })
})
