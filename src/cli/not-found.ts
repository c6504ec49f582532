import {Errors, type Hook, type Interfaces} from '@oclif/core'
import {closestCommands} from './suggest.js'

/** Commands and topics a user may be told about: hidden ones (like __complete) are never suggested. */
function visibleIds(config: Interfaces.Config): string[] {
  const commands = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const topics = config.topics.filter((t) => !t.hidden).map((t) => t.name)
  return [...commands, ...topics]
}

/** How many leading words name an existing topic ("cluster creat" -> 1). */
function knownTopicWords(config: Interfaces.Config, words: string[]): number {
  for (let n = words.length; n > 0; n--) if (config.findTopic(words.slice(0, n).join(':'))) return n
  return 0
}

/**
 * A mistyped command or topic: one line naming it and the closest commands, exit code 2, nothing run and never a
 * prompt (oclif's plugin-not-found asks "Did you mean ...?" on a terminal, whatever CI says, and exits 127).
 * `words` are the typed words before the first flag.
 */
export function unknownCommand(config: Interfaces.Config, words: string[], opts: {prefix?: string; json?: boolean} = {}): never {
  const bin = [config.bin, opts.prefix].filter(Boolean).join(' ')
  const known = knownTopicWords(config, words)
  const suggestions = closestCommands(words, known, visibleIds(config))
  // What was typed, as far as the command goes: without the arguments that follow it.
  const typedWords = suggestions.length > 0 ? Math.max(...suggestions.map((s) => s.split(':').length)) : known + 1
  const hint =
    suggestions.length === 0
      ? `run '${config.bin} help${known > 0 ? ` ${words.slice(0, known).join(' ')}` : ''}' for the list of commands`
      : `did you mean ${suggestions.map((s) => `'${bin} ${s.split(':').join(' ')}'`).join(' or ')}?`
  const message = `unknown command '${bin} ${words.slice(0, typedWords).join(' ')}': ${hint}`
  if (opts.json) process.stdout.write(`${JSON.stringify({error: {message, kind: 'usage'}}, null, 2)}\n`)
  else process.stderr.write(`Error: ${message}\n`)
  Errors.exit(2)
}

/** oclif's command_not_found hook (package.json oclif.hooks). oclif's id holds every word before the first flag. */
const hook: Hook<'command_not_found'> = async function (opts) {
  const argv = opts.argv ?? []
  const firstFlag = argv.findIndex((a) => a.startsWith('-'))
  const words = [...opts.id.split(':'), ...(firstFlag === -1 ? argv : argv.slice(0, firstFlag))]
  unknownCommand(opts.config, words, {json: argv.includes('--json')})
}

export default hook
