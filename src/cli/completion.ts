/**
 * Shell completion, computed from the command manifest: the shell scripts (completion-scripts.ts) pass the words
 * typed so far to `cms __complete` and show what comes back. Pure: no I/O here.
 */

export interface CompletionFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  options?: readonly string[]
  multiple?: boolean
  hidden?: boolean
  summary?: string
  description?: string
}

export interface CompletionCommand {
  id: string
  hidden?: boolean
  summary?: string
  description?: string
  flags: Record<string, CompletionFlag>
  args: Record<string, {name: string; options?: readonly string[]}>
}

export interface CompletionTopic {
  name: string
  description?: string
  hidden?: boolean
}

export interface Candidate {
  value: string
  description?: string
}

export interface Completion {
  candidates: Candidate[]
  /** The shell should also offer file names. */
  files: boolean
  /** The value being completed names a cluster: offer the clusters the providers know (see withClusterNames). */
  clusterNames: boolean
  /** What the user typed of the value (filters cluster names) and what goes before each one (`--name=`). */
  partial: string
  prefix: string
}

/** The option flag whose value is a cluster (`-n NAME` on every cluster and job command). */
const CLUSTER_FLAG = 'name'
/** Values that are local files; other free-form values (numbers, sizes, Spark properties) get no suggestions. */
const PATH_FLAGS = new Set(['identity-file', 'spark-dist'])
const PATH_ARGS = new Set(['jobfile', 'local'])

/** One line of a description, with oclif's `<%= config.bin %>` filled in. */
const firstLine = (text: string | undefined, bin: string) =>
  text?.split('\n')[0].replaceAll('\t', ' ').replaceAll(/<%=\s*config\.bin\s*%>/g, bin).trim() || undefined

/** Keeps the candidates that start with what was typed, each behind `prefix` (`--name=`) when there is one. */
function result(candidates: Candidate[], partial: string, extra: Partial<Completion> = {}): Completion {
  const prefix = extra.prefix ?? ''
  const kept = candidates.filter((c) => c.value.startsWith(partial)).map((c) => ({...c, value: prefix + c.value}))
  return {files: false, clusterNames: false, ...extra, candidates: kept, partial, prefix}
}

export function complete(commands: CompletionCommand[], topics: CompletionTopic[], words: string[], bin = 'cms'): Completion {
  const visible = commands.filter((c) => !c.hidden)
  const ids = new Set(visible.map((c) => c.id))
  const current = words.at(-1) ?? ''
  const before = words.slice(0, -1)

  // Walk the words that name a topic or a command; stop at a command that has no subcommands.
  const isPrefix = (id: string) => visible.some((c) => c.id === id || c.id.startsWith(`${id}:`))
  const path: string[] = []
  let used = 0
  while (used < before.length && !before[used].startsWith('-') && isPrefix([...path, before[used]].join(':'))) {
    path.push(before[used++])
    const id = path.join(':')
    if (ids.has(id) && !visible.some((c) => c.id.startsWith(`${id}:`))) break
  }
  const command = ids.has(path.join(':')) ? visible.find((c) => c.id === path.join(':')) : undefined

  if (!command) {
    if (used < before.length) return result([], current) // an unknown word: nothing sensible to offer
    if (current.startsWith('-')) return result([{value: '--help'}, ...(path.length === 0 ? [{value: '--version'}] : [])], current)
    return result(children(visible, topics, path, bin), current)
  }

  const rest = before.slice(used)
  if (command.id === 'help') {
    // `cms help cluster cr<TAB>`: the words after help name a topic or command.
    const inner = complete(commands, topics, [...rest, current], bin)
    const onlyPaths = current.startsWith('-') || inner.files || inner.clusterNames ? [] : inner.candidates
    return result(onlyPaths, current)
  }

  const flags = Object.values(command.flags).filter((f) => !f.hidden)
  const flagOf = (token: string) =>
    token.startsWith('--') ? flags.find((f) => f.name === token.slice(2)) : flags.find((f) => f.char !== undefined && token === `-${f.char}`)

  // A flag's value: `-n <TAB>`, `--name <TAB>` or `--name=<TAB>`.
  const eq = current.startsWith('--') ? current.indexOf('=') : -1
  const valueOf = eq > 0 ? flagOf(current.slice(0, eq)) : rest.length > 0 ? flagOf(rest.at(-1)!) : undefined
  if (valueOf?.type === 'option') {
    const partial = eq > 0 ? current.slice(eq + 1) : current
    const prefix = eq > 0 ? current.slice(0, eq + 1) : ''
    if (valueOf.name === CLUSTER_FLAG) return result([], partial, {clusterNames: true, prefix})
    return result((valueOf.options ?? []).map((o) => ({value: o})), partial, {files: PATH_FLAGS.has(valueOf.name), prefix})
  }

  if (current.startsWith('-')) {
    const typed = new Set(rest.map((token) => flagOf(token.split('=')[0])?.name))
    const offered = flags
      .filter((f) => f.multiple || !typed.has(f.name))
      .map((f) => ({value: `--${f.name}`, description: firstLine(f.summary ?? f.description, bin)}))
    return result([...offered, {value: '--help', description: 'Show help for this command.'}], current)
  }

  // A positional argument: which one is it, counting the words that are not flags or flag values?
  let position = 0
  for (let i = 0; i < rest.length; i++) {
    const flag = flagOf(rest[i])
    if (flag?.type === 'option' && !rest[i].includes('=')) i++
    else if (!rest[i].startsWith('-')) position++
  }
  const args = Object.values(command.args)
  const arg = args[Math.min(position, args.length - 1)]
  if (!arg) return result([], current)
  if (arg.options) return result(arg.options.map((o) => ({value: o})), current)
  return result([], current, {files: PATH_ARGS.has(arg.name)})
}

/** The next word under a topic (or at the top): its topics and commands, each with its one-line description. */
function children(commands: CompletionCommand[], topics: CompletionTopic[], path: string[], bin: string): Candidate[] {
  const depth = path.length + 1
  const under = (id: string) => id.split(':').length >= depth && id.split(':').slice(0, path.length).join(':') === path.join(':')
  const found = new Map<string, Candidate>()
  for (const t of topics) {
    if (!t.hidden && t.name.split(':').length === depth && under(t.name)) found.set(t.name, {value: t.name.split(':').at(-1)!, description: firstLine(t.description, bin)})
  }
  for (const c of commands) {
    if (!under(c.id)) continue
    const id = c.id.split(':').slice(0, depth).join(':')
    if (!found.has(id)) found.set(id, {value: id.split(':').at(-1)!, description: id === c.id ? firstLine(c.summary ?? c.description, bin) : undefined})
  }
  return [...found.values()].sort((a, b) => a.value.localeCompare(b.value))
}

/** The final candidates once the cluster names are known (only asked for when completion.clusterNames is set). */
export function withClusterNames(completion: Completion, names: string[]): Candidate[] {
  if (!completion.clusterNames) return completion.candidates
  return names.filter((n) => n.startsWith(completion.partial)).map((n) => ({value: completion.prefix + n}))
}

/** What `cms __complete` prints: one candidate a line, `value<TAB>description`, then `:files` when files fit too. */
export function formatCompletion(candidates: Candidate[], files: boolean): string {
  const lines = candidates.map((c) => (c.description ? `${c.value}\t${c.description}` : c.value))
  if (files) lines.push(':files')
  return lines.length > 0 ? `${lines.join('\n')}\n` : ''
}
