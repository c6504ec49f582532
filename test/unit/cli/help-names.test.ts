import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {wordList} from '../../../src/cli/registry-words.js'
import {ENGINE_NAMES} from '../../../src/engines/registry.js'
import {PROVIDER_NAMES} from '../../../src/providers/registry.js'

type Example = string | {description: string; command: string}
interface HelpText {
  summary?: string
  description?: string
  examples?: Example[]
}

/** What `--help` shows of a command besides its flags: summary, description, examples. */
const helpText = (c: HelpText): string =>
  [c.summary, c.description, ...(c.examples ?? []).flatMap((e) => (typeof e === 'string' ? [e] : [e.description, e.command]))].filter(Boolean).join('\n')

const names = (text: string, wanted: readonly string[]) => wanted.filter((n) => !new RegExp(`\\b${n}\\b`, 'i').test(text))

const load = async (id: string): Promise<HelpText> => {
  const [topic, verb] = id.split(':')
  return (await import(`../../../src/commands/${topic}/${verb}.ts`)).default
}

// Which registered engines and providers each command serves, so its help must name them all.
const SERVES: Array<[string, {engines?: true; providers?: true}]> = [
  ['cluster:create', {engines: true, providers: true}],
  ['cluster:add', {engines: true, providers: true}],
  ['cluster:remove', {engines: true, providers: true}],
  ['cluster:info', {engines: true, providers: true}],
  ['cluster:list', {engines: true, providers: true}],
  ['cluster:kill', {providers: true}],
  ['cluster:ssh', {providers: true}],
  ['cluster:run', {providers: true}],
  ['cluster:copy', {providers: true}],
  ['cluster:submit', {engines: true}],
  ['cluster:tunnel', {engines: true}],
  ['job:list', {engines: true}],
  ['job:status', {engines: true}],
  ['job:logs', {engines: true}],
  ['job:kill', {engines: true}],
  ['job:rerun', {engines: true}],
]

describe("every command's help names every engine and provider it serves", () => {
  it.each(SERVES)('%s', async (id, serves) => {
    const text = helpText(await load(id))
    if (serves.engines) expect(names(text, ENGINE_NAMES), `${id} does not name these engines`).toEqual([])
    if (serves.providers) expect(names(text, PROVIDER_NAMES), `${id} does not name these providers`).toEqual([])
  })

  it('the CLI itself (package.json, shown by `cms --help`)', () => {
    const pjson = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as {description: string}
    expect(names(pjson.description, ENGINE_NAMES)).toEqual([])
    expect(names(pjson.description, PROVIDER_NAMES)).toEqual([])
  })

  it('fails for a help text that leaves one out', () => {
    expect(names('Spark, Nomad or Kubernetes on docker or ssh hosts', [...ENGINE_NAMES, 'aws'])).toEqual(['hadoop', 'aws'])
  })
})

describe('wordList', () => {
  it.each([
    [[], ''],
    [['a'], 'a'],
    [['a', 'b'], 'a or b'],
    [['a', 'b', 'c'], 'a, b or c'],
  ])('%j', (list, text) => expect(wordList(list, 'or')).toBe(text))
})
