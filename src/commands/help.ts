import {commands} from '@oclif/plugin-help'
import {unknownCommand} from '../cli/not-found.js'

const HelpCommand = commands.help

/**
 * oclif's own help command (@oclif/plugin-help, bundled: it renders with the same Help class as --help, so
 * `cms help cluster create` prints exactly what `cms cluster create --help` does). A mistyped command or topic
 * gets the same "did you mean" line and exit code 2 as running it would.
 */
export default class Help extends HelpCommand {
  async run(): Promise<void> {
    const words = this.argv.filter((arg) => !arg.startsWith('-'))
    const id = words.join(':')
    if (words.length > 0 && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      unknownCommand(this.config, words, {prefix: 'help'})
    }
    await super.run()
  }
}
