import {z} from 'zod'
import {parse as parseYaml} from 'yaml'
import {parseDuration} from '../../cluster/max-age.js'
import {UsageError} from '../../remote/errors.js'
import {issuesLine} from '../task-input.js'

/**
 * Job sources (`cms serve --sources FILE`, or one at a time through POST /mgmt/sources): places where work is already
 * written, each looked at on its own interval: `directory` (a watched folder), `sql` (a PostgreSQL table) and
 * `rabbitmq` (an AMQP 0-9-1 queue); an unknown kind is refused by name.
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

const rabbitSource = z.strictObject({
  name,
  kind: z.literal('rabbitmq'),
  url: z.string({error: 'expected an amqp:// or amqps:// URL'}).refine((u) => /^amqps?:\/\/[^/]/.test(u), {error: 'expected an amqp:// or amqps:// URL'}),
  queue: z.string({error: 'expected the queue to consume'}).min(1, {error: 'expected the queue to consume'}).max(255, {error: 'at most 255 characters'}),
  cluster: cluster.optional(),
  /** How often the connection is checked (reconnected when lost) and completion events are published. */
  interval: duration.optional(),
  prefetch: z.number({error: 'expected a whole number from 1 to 1000'}).int({error: 'expected a whole number from 1 to 1000'}).min(1, {error: 'expected a whole number from 1 to 1000'}).max(1000, {error: 'expected a whole number from 1 to 1000'}).optional(),
  /** Where completion events (and refusals) are published. */
  exchange: z.string({error: 'expected an exchange name'}).min(1, {error: 'expected an exchange name'}).max(255, {error: 'at most 255 characters'}).optional(),
  /** Declare the queue (durable) and the exchange (topic, durable) when missing; else a missing one is an error. */
  declare: z.boolean({error: 'expected true or false'}).optional(),
})

/** One source as the file's entry or POST /mgmt/sources's body (for the OpenAPI document; parseSource checks). */
export const sourceSchema = z.discriminatedUnion('kind', [directorySource, sqlSource, rabbitSource])

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

export interface RabbitSourceConfig {
  name: string
  kind: 'rabbitmq'
  url: string
  queue: string
  cluster?: string | string[]
  intervalMs: number
  prefetch: number
  exchange?: string
  declare: boolean
}

export type SourceConfig = DirectorySourceConfig | SqlSourceConfig | RabbitSourceConfig

const KINDS = ['directory', 'sql', 'rabbitmq']

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
    const source = parseSource(raw, where)
    if (seen.has(source.name)) throw new UsageError(`${where}.name: ${source.name} is used twice`)
    seen.add(source.name)
    return source
  })
}

/**
 * One source, as an entry of the file or the body of POST /mgmt/sources; `where` prefixes the field in the one-line
 * UsageError (`s.yaml: sources[2]`, or '' for a request body).
 */
export function parseSource(raw: unknown, where: string): SourceConfig {
  const at = (field: string) => [where, field].filter(Boolean).join('.')
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${where || 'body'}: expected a source ({name, kind, ...})`)
  const kind = (raw as {kind?: unknown}).kind
  if (!KINDS.includes(kind as string)) throw new UsageError(`${at('kind')}: ${JSON.stringify(kind)} is not a kind of source this version has (known: ${KINDS.join(', ')})`)
  const interval = (s: {interval?: string}, fallback: string) => parseDuration(s.interval ?? fallback, at('interval')) * 1000
  if (kind === 'rabbitmq') {
    const s = check(rabbitSource, raw, where)
    return {name: s.name, kind: 'rabbitmq', url: s.url, queue: s.queue, cluster: s.cluster, intervalMs: interval(s, '5s'), prefetch: s.prefetch ?? 16, exchange: s.exchange, declare: s.declare ?? false}
  }
  if (kind === 'sql') {
    const s = check(sqlSource, raw, where)
    const c = s.columns ?? {}
    return {
      name: s.name,
      kind: 'sql',
      url: s.url,
      table: s.table,
      cluster: s.cluster,
      intervalMs: interval(s, '30s'),
      columns: {id: c.id ?? 'id', status: c.status ?? 'status', task: c.task ?? 'task', taskId: c.taskId ?? 'task_id', error: c.error ?? 'error'},
      pending: s.pending ?? 'pending',
    }
  }
  const s = check(directorySource, raw, where)
  return {
    name: s.name,
    kind: 'directory',
    path: s.path.replace(/\/+$/, '') || '/',
    cluster: s.cluster,
    intervalMs: interval(s, '5s'),
    settleMs: parseDuration(s.settle ?? '2s', at('settle')) * 1000,
  }
}

function check<T extends z.ZodObject>(schema: T, raw: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(raw)
  if (!parsed.success) throw new UsageError(issuesLine(where, parsed.error.issues, Object.keys(schema.shape)))
  return parsed.data
}
