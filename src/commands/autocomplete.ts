import {basename} from 'node:path'
import {Args, Command} from '@oclif/core'
import {SHELLS, type Shell, completionScript, setupLine} from '../cli/completion-scripts.js'

export default class Autocomplete extends Command {
  static summary = 'Print the shell completion script for bash, zsh or fish.'
  static description = `Completes topics, commands and flags, and after -n the names of the clusters the providers know right now (waiting at most 2.5 s for them). Without SHELL, the shell in $SHELL.
  bash: ${setupLine('bash', 'cms')}
  zsh:  ${setupLine('zsh', 'cms')}
  fish: ${setupLine('fish', 'cms')}`
  static examples = [
    {description: 'Try it in the current bash', command: 'eval "$(<%= config.bin %> <%= command.id %> bash)"'},
    {description: 'Install it for fish', command: '<%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/<%= config.bin %>.fish'},
  ]
  static args = {
    shell: Args.string({description: 'The shell [default: the one in $SHELL].', options: [...SHELLS]}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Autocomplete)
    const shell = (args.shell ?? basename(process.env.SHELL ?? '')) as Shell
    if (!SHELLS.includes(shell)) {
      // Bad usage, said the way every cms command says it: one line, exit code 2.
      process.stderr.write(`Error: cannot tell the shell from SHELL=${JSON.stringify(process.env.SHELL ?? '')}: name it, one of ${SHELLS.join(', ')}\n`)
      this.exit(2)
    }
    process.stdout.write(completionScript(shell, this.config.bin))
    // Someone reading the script on a terminal is told how to keep it; an eval in a shell's rc file stays quiet.
    if (process.stdout.isTTY) process.stderr.write(`\nTo turn completion on for every new ${shell}: ${setupLine(shell, this.config.bin)}\n`)
  }
}
