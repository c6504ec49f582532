import {describe, expect, it} from 'vitest'
import {complete, formatCompletion, withClusterNames, type CompletionCommand} from '../../../src/cli/completion.js'
import {SHELLS, completionScript} from '../../../src/cli/completion-scripts.js'

const name = {name: 'name', char: 'n', type: 'option' as const, summary: 'Cluster name.'}
const json = {name: 'json', type: 'boolean' as const, description: 'Format output as json.'}
const commands: CompletionCommand[] = [
  {
    id: 'cluster:create',
    summary: 'Create a cluster.',
    flags: {
      json,
      name,
      provider: {name: 'provider', char: 'p', type: 'option', options: ['docker', 'ssh']},
      'spark-dist': {name: 'spark-dist', type: 'option', description: 'Spark distribution.\nMore text.'},
      'worker-memory': {name: 'worker-memory', type: 'option'},
    },
    args: {hosts: {name: 'hosts'}},
  },
  {id: 'cluster:info', summary: 'Show a cluster.', flags: {json, name}, args: {}},
  {id: 'cluster:submit', summary: 'Submit jobs.', flags: {name, conf: {name: 'conf', type: 'option', multiple: true}}, args: {jobfile: {name: 'jobfile'}}},
  {id: 'job:status', summary: 'One job.', flags: {name}, args: {id: {name: 'id'}}},
  {id: 'help', description: 'Display help for <%= config.bin %>.', flags: {'nested-commands': {name: 'nested-commands', char: 'n', type: 'boolean'}}, args: {command: {name: 'command'}}},
  {id: 'autocomplete', summary: 'Completion script.', flags: {}, args: {shell: {name: 'shell', options: ['bash', 'zsh', 'fish']}}},
  {id: '__complete', hidden: true, flags: {}, args: {}},
]
const topics = [
  {name: 'cluster', description: 'Clusters'},
  {name: 'job', description: 'Jobs'},
]
const values = (words: string[]) => complete(commands, topics, words).candidates.map((c) => c.value)

describe('shell completion', () => {
  it('offers topics and commands, with descriptions, never hidden ones', () => {
    expect(complete(commands, topics, ['']).candidates).toEqual([
      {value: 'autocomplete', description: 'Completion script.'},
      {value: 'cluster', description: 'Clusters'},
      {value: 'help', description: 'Display help for cms.'},
      {value: 'job', description: 'Jobs'},
    ])
    expect(values(['cl'])).toEqual(['cluster'])
    expect(values(['cluster', ''])).toEqual(['create', 'info', 'submit'])
    expect(values(['cluster', 'in'])).toEqual(['info'])
    expect(values(['clustr', ''])).toEqual([])
    expect(values(['-'])).toEqual(['--help', '--version'])
  })

  it('offers a command flags, skipping those already given unless they repeat', () => {
    expect(values(['cluster', 'create', '--'])).toEqual(['--json', '--name', '--provider', '--spark-dist', '--worker-memory', '--help'])
    expect(values(['cluster', 'create', '-n', 'a', '--json', '--'])).toEqual(['--provider', '--spark-dist', '--worker-memory', '--help'])
    expect(values(['cluster', 'submit', '--conf', 'a=b', '--c'])).toEqual(['--conf'])
    const spark = complete(commands, topics, ['cluster', 'create', '--sp']).candidates
    expect(spark).toEqual([{value: '--spark-dist', description: 'Spark distribution.'}])
  })

  it('asks for cluster names after -n and --name, in every command that has it', () => {
    for (const words of [
      ['cluster', 'info', '-n', ''],
      ['cluster', 'info', '--name', 'de'],
      ['job', 'status', '--json', '-n', ''],
    ]) {
      const c = complete(commands, topics, words)
      expect(c.clusterNames, words.join(' ')).toBe(true)
      expect(c.files).toBe(false)
    }
    const c = complete(commands, topics, ['cluster', 'info', '-n', 'de'])
    expect(withClusterNames(c, ['demo', 'dev', 'prod'])).toEqual([{value: 'demo'}, {value: 'dev'}])
    const eq = complete(commands, topics, ['cluster', 'info', '--name=d'])
    expect(withClusterNames(eq, ['demo', 'prod'])).toEqual([{value: '--name=demo'}])
    // help's -n is --nested-commands, a boolean: no cluster names there.
    expect(complete(commands, topics, ['help', '-n', '']).clusterNames).toBe(false)
  })

  it('offers a flag or argument choices, files where a path goes, nothing for free-form values', () => {
    expect(values(['cluster', 'create', '-p', ''])).toEqual(['docker', 'ssh'])
    expect(values(['cluster', 'create', '--provider=s'])).toEqual(['--provider=ssh'])
    expect(values(['autocomplete', 'f'])).toEqual(['fish'])
    expect(complete(commands, topics, ['cluster', 'create', '--spark-dist', '']).files).toBe(true)
    expect(complete(commands, topics, ['cluster', 'submit', '-n', 'demo', '']).files).toBe(true)
    const memory = complete(commands, topics, ['cluster', 'create', '--worker-memory', ''])
    expect([memory.files, memory.clusterNames, memory.candidates]).toEqual([false, false, []])
    expect(complete(commands, topics, ['job', 'status', '-n', 'demo', '']).files).toBe(false)
    // cluster copy: LOCAL is a local file, REMOTE a path on the hosts (nothing to offer from here).
    const copy: CompletionCommand = {id: 'cluster:copy', flags: {name, hosts: {name: 'hosts', type: 'option', multiple: true}}, args: {local: {name: 'local'}, remote: {name: 'remote'}}}
    expect(complete([...commands, copy], topics, ['cluster', 'copy', '-n', 'demo', '--hosts', 'worker', '']).files).toBe(true)
    expect(complete([...commands, copy], topics, ['cluster', 'copy', '-n', 'demo', 'app.conf', '']).files).toBe(false)
  })

  it('completes the command named after help', () => {
    expect(values(['help', ''])).toEqual(['autocomplete', 'cluster', 'help', 'job'])
    expect(values(['help', 'cluster', 'cr'])).toEqual(['create'])
    expect(values(['help', 'cluster', 'create', ''])).toEqual([])
  })

  it('prints one candidate a line, value TAB description, and :files last', () => {
    expect(formatCompletion([{value: 'a', description: 'A'}, {value: 'b'}], true)).toBe('a\tA\nb\n:files\n')
    expect(formatCompletion([], false)).toBe('')
  })

  it('has a script for bash, zsh and fish that asks the CLI as typed, past oclif flags', () => {
    for (const shell of SHELLS) {
      const script = completionScript(shell, 'cms')
      expect(script, shell).toContain('__complete --')
      expect(script, shell).toMatch(shell === 'fish' ? /complete -c cms / : shell === 'zsh' ? /compdef _cms_complete cms/ : /complete -F _cms_complete cms/)
    }
  })
})
