import {z} from 'zod'
import {parse as parseYaml} from 'yaml'
import {parseDuration} from '../../cluster/max-age.js'
import {UsageError} from '../../remote/errors.js'
import {issuesLine} from '../task-input.js'

/**
 * The job sources file (`cms serve --sources FILE`): places where work is already written, each polled on its own
 * interval: `directory` (a watched folder) and `sql` (a PostgreSQL table); an unknown kind is refused by name.
 */
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {error: 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'})
const duration = z.string({error: 'expected a duration like 5s, 1m or 1h'})
const cluster = z.union([z.string(), z.array(z.string()).min(1)], {error: 'expected a cluster name or a list of them'})

const directorySource = z.strictObject({
  name,
  kind: z.literal('directory'),
  path: z.string({error: 'expected the folder to watch (an absolute path)'}).refine((p) => p.startsWith('/'), {error: 'must be an absolute path'}),
  cluster: cluster.optional(),
  interval: duration.optional(),
  /** A file is read once its size and time have not changed for this long (it is complete). */
  settle: duration.optional(),
})

const ident = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {error: 'must be a plain SQL name (letters, digits, _)'})
const sqlSource = z.strictObject({
  name,
  kind: z.literal('sql'),
  url: z.string({error: 'expected a postgres:// URL'}).refine((u) => /^postgres(ql)?:\/\//.test(u), {error: 'expected a postgres:// URL (PostgreSQL is the database this version reads)'}),
  table: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, {error: 'must be a table name, or schema.table'}),
  cluster: cluster.optional(),
  interval: duration.optional(),
  columns: z.strictObject({id: ident.optional(), status: ident.optional(), task: ident.optional(), taskId: ident.optional(), error: ident.optional()}).optional(),
  /** The status values the service reads and writes. */
  pending: z.string().min(1).max(64).optional(),
})

const sourcesFile = z.strictObject({sources: z.array(z.unknown(), {error: 'expected a list of sources'})}, {error: 'expected {sources: [...]}'})

export interface DirectorySourceConfig {
  name: string
  kind: 'directory'
  path: string
  /** The cluster(s) of a file that names none (a bare spec). */
  cluster?: string | string[]
  intervalMs: number
  settleMs: number
}

export interface SqlSourceConfig {
  name: string
  kind: 'sql'
  url: string
  table: string
  cluster?: string | string[]
  intervalMs: number
  columns: {id: string; status: string; task: string; taskId: string; error: string}
  /** The status of a row waiting to be taken. */
  pending: string
}

export type SourceConfig = DirectorySourceConfig | SqlSourceConfig

const KINDS = ['directory', 'sql']

/** Parses the sources file's text; a bad entry is one UsageError line naming the source and the field. */
export function parseSources(text: string, file: string): SourceConfig[] {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (error) {
    throw new UsageError(`${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`)
  }
  const top = sourcesFile.safeParse(doc)
  if (!top.success) throw new UsageError(`${file}: ${issuesLine('', top.error.issues, ['sources'])}`)
  const seen = new Set<string>()
  return top.data.sources.map((raw, i) => {
    const where = `${file}: sources[${i}]`
    const kind = (raw as {kind?: unknown})?.kind
    if (!KINDS.includes(kind as string)) throw new UsageError(`${where}.kind: ${JSON.stringify(kind)} is not a kind of source this version has (known: ${KINDS.join(', ')})`)
    const once = (n: string) => {
      if (seen.has(n)) throw new UsageError(`${where}.name: ${n} is used twice`)
      seen.add(n)
    }
    if (kind === 'sql') {
      const parsed = sqlSource.safeParse(raw)
      if (!parsed.success) throw new UsageError(issuesLine(where, parsed.error.issues, Object.keys(sqlSource.shape)))
      const s = parsed.data
      once(s.name)
      const c = s.columns ?? {}
      return {
        name: s.name,
        kind: 'sql',
        url: s.url,
        table: s.table,
        cluster: s.cluster,
        intervalMs: parseDuration(s.interval ?? '30s', `${where}.interval`) * 1000,
        columns: {id: c.id ?? 'id', status: c.status ?? 'status', task: c.task ?? 'task', taskId: c.taskId ?? 'task_id', error: c.error ?? 'error'},
        pending: s.pending ?? 'pending',
      } satisfies SqlSourceConfig
    }
    const parsed = directorySource.safeParse(raw)
    if (!parsed.success) throw new UsageError(issuesLine(where, parsed.error.issues, Object.keys(directorySource.shape)))
    const s = parsed.data
    once(s.name)
    return {
      name: s.name,
      kind: 'directory',
      path: s.path.replace(/\/+$/, '') || '/',
      cluster: s.cluster,
      intervalMs: parseDuration(s.interval ?? '5s', `${where}.interval`) * 1000,
      settleMs: parseDuration(s.settle ?? '2s', `${where}.settle`) * 1000,
    }
  })
}
