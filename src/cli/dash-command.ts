/**
 * Splits a command's arguments at `--`: the words before it (its own arguments, as oclif parsed them) and the
 * command after it, word for word. `raw` is the command line as given (this.argv), `parsed` oclif's argv.
 */
export function commandAfterDashes(raw: string[], parsed: string[]): {before: string[]; command: string[]} {
  const dashes = raw.indexOf('--')
  const command = dashes >= 0 ? raw.slice(dashes + 1) : []
  return {before: parsed.slice(0, parsed.length - command.length), command}
}
