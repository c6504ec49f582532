import {describe, expect, it} from 'vitest'
import {closestCommands, editDistance} from '../../../src/cli/suggest.js'

const ids = [
  'cluster',
  'job',
  'cluster:add',
  'cluster:create',
  'cluster:info',
  'cluster:kill',
  'cluster:list',
  'cluster:remove',
  'cluster:submit',
  'job:kill',
  'job:list',
  'job:logs',
  'job:rerun',
  'job:status',
  'help',
  'autocomplete',
]

describe('did you mean', () => {
  it('counts a swap of neighbouring letters as one typo', () => {
    expect(editDistance('creat', 'create')).toBe(1)
    expect(editDistance('lsit', 'list')).toBe(1)
    expect(editDistance('stauts', 'status')).toBe(1)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('kill', 'kill')).toBe(0)
  })

  it('suggests the command within the topic that was typed right', () => {
    expect(closestCommands(['cluster', 'creat'], 1, ids)).toEqual(['cluster:create'])
    expect(closestCommands(['job', 'stauts', '3'], 1, ids)).toEqual(['job:status'])
    expect(closestCommands(['job', 'lsit'], 1, ids)).toEqual(['job:list'])
  })

  it('suggests a topic, or a command when the next word makes one', () => {
    expect(closestCommands(['clustr'], 0, ids)).toEqual(['cluster'])
    expect(closestCommands(['clustr', 'create'], 0, ids)).toEqual(['cluster:create'])
    expect(closestCommands(['clusters', 'list'], 0, ids)).toEqual(['cluster:list'])
    expect(closestCommands(['hlep'], 0, ids)).toEqual(['help'])
  })

  it('names every equally close command', () => {
    expect(closestCommands(['job', 'lis'], 1, ids)).toEqual(['job:list'])
    expect(closestCommands(['job', 'kogs'], 1, ids)).toEqual(['job:logs'])
    expect(closestCommands(['db', 'stat'], 1, ['db:start', 'db:stop', 'db:state', 'db:status'])).toEqual(['db:start', 'db:state'])
  })

  it('suggests nothing that is not plausibly a typo, and nothing outside the typed topic', () => {
    expect(closestCommands(['cluster', 'rm'], 1, ids)).toEqual([])
    expect(closestCommands(['foo'], 0, ids)).toEqual([])
    expect(closestCommands(['cluster', 'stauts'], 1, ids)).toEqual([])
  })
})
