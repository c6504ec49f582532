import {Command} from '@oclif/core'
import {clusterNamesWithin} from '../cli/cluster-names.js'
import {complete, formatCompletion, withClusterNames} from '../cli/completion.js'

/** How long completing `-n` waits for the providers: a TAB must never hang. */
const CLUSTER_NAMES_MS = 2500

/**
 * Called by the scripts `cms autocomplete SHELL` prints: `cms __complete -- WORD...` (the words after `cms`, the
 * last one being completed) prints one candidate a line. Silent on any error: a completion must never disturb the
 * command line.
 */
export default class Complete extends Command {
  static hidden = true
  static strict = false
  static summary = 'Completion candidates for the words typed so far (used by the shell completion scripts).'

  async run(): Promise<void> {
    const words = this.argv[0] === '--' ? this.argv.slice(1) : this.argv
    let output = ''
    let timedOut = false
    try {
      const completion = complete(this.config.commands, this.config.topics, words.length > 0 ? words : [''], this.config.bin)
      let names: string[] = []
      if (completion.clusterNames) ({names, timedOut} = await clusterNamesWithin(CLUSTER_NAMES_MS))
      output = formatCompletion(withClusterNames(completion, names), completion.files)
    } catch {
      output = ''
    }
    process.stdout.write(output)
    // A Docker request still waiting would keep the process alive: leave now.
    if (timedOut) this.exit(0)
  }
}
