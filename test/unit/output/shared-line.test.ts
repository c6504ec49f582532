import {describe, expect, it} from 'vitest'
import {sharedLine} from '../../../src/output/progress.js'

describe('sharedLine', () => {
  it('shows both steps of a host on its one line, and drops a step that cleared its part', () => {
    const shown: string[] = []
    const [main, side] = sharedLine({update: (text) => shown.push(text)})
    main.update('starting datanode')
    side.update('fetching Spark from the head')
    main.update('starting nodemanager')
    side.update('')
    expect(shown).toEqual(['starting datanode', 'starting datanode · fetching Spark from the head', 'starting nodemanager · fetching Spark from the head', 'starting nodemanager'])
  })
})
