import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import {Loop} from '../loop.js'
import {parseSource, type SourceConfig} from './config.js'
import {DirectorySource} from './directory.js'
import {RabbitSource} from './rabbitmq.js'
import type {JobSource, SourceHost, SourceStatus} from './source.js'
import {SqlSource} from './sql.js'

type Origin = SourceStatus['origin']

/** A source that should run: its config, where it comes from, and a key that changes when its config does. */
export interface Wanted {
  name: string
  key: string
  origin: Origin
  config: SourceConfig
}

/**
 * What to change so that the sources running are the sources wanted: stop those no longer wanted or whose config
 * changed, start those wanted and not running (again, for a changed one). Pure.
 */
export function reconcile(wanted: ReadonlyArray<{name: string; key: string}>, running: ReadonlyArray<{name: string; key: string}>): {start: string[]; stop: string[]} {
  const want = new Map(wanted.map((w) => [w.name, w.key]))
  const have = new Map(running.map((r) => [r.name, r.key]))
  const stop = running.filter((r) => want.get(r.name) !== r.key).map((r) => r.name)
  const start = wanted.filter((w) => have.get(w.name) !== w.key).map((w) => w.name)
  return {start, stop}
}

/**
 * The sources wanted: the --sources file's, then those stored through the API (one the file names too is the
 * file's; a stored one this version cannot read is skipped). `skipped` says why for each left out. Pure.
 */
export function wantedSources(file: readonly SourceConfig[], stored: ReadonlyArray<{name: string; config: string}>): {wanted: Wanted[]; skipped: Map<string, string>} {
  const wanted: Wanted[] = file.map((c) => ({name: c.name, key: JSON.stringify(c), origin: 'file', config: c}))
  const skipped = new Map<string, string>()
  for (const row of [...stored].sort((a, b) => a.name.localeCompare(b.name))) {
    if (file.some((c) => c.name === row.name)) {
      skipped.set(row.name, 'the --sources file has a source of that name, which runs instead')
      continue
    }
    try {
      const config = parseSource(JSON.parse(row.config), '')
      if (config.name !== row.name) throw new UsageError(`name: ${config.name} is stored under ${row.name}`)
      wanted.push({name: row.name, key: JSON.stringify(config), origin: 'api', config})
    } catch (error) {
      skipped.set(row.name, `cannot be read: ${(error as Error).message.split('\n')[0]}`)
    }
  }
  return {wanted, skipped}
}

function openSource(config: SourceConfig, host: SourceHost, log: (line: string) => void): JobSource {
  switch (config.kind) {
    case 'sql':
      return new SqlSource(config, host, log)
    case 'rabbitmq':
      return new RabbitSource(config, host, log)
    case 'directory':
      return new DirectorySource(config, host, log)
  }
}

interface Running {
  wanted: Wanted
  source: JobSource
  loop: Loop
}

/**
 * The job sources of a server and their loops: the --sources file's, and those made through /mgmt/sources, stored
 * in the database. Every `intervalMs` (and at once after a change made here) it reads the stored ones and starts
 * and stops loops to match, so that every server sharing one database runs the same sources.
 */
export class SourceSet {
  private readonly running = new Map<string, Running>()
  private readonly loop: Loop
  /** Why a stored source is left out, as last logged (logged again only when it changes). */
  private skipped = new Map<string, string>()
  /** One look at a time (the loop's and those after a change through the API). */
  private syncing: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(
    private readonly file: readonly SourceConfig[],
    private readonly host: SourceHost,
    private readonly log: (line: string) => void,
    intervalMs: number,
  ) {
    this.loop = new Loop('sources', intervalMs, () => this.sync(), log)
  }

  /** Starts the file's sources at once, and the loop that follows the stored ones. */
  start(): void {
    for (const w of wantedSources(this.file, []).wanted) this.launch(w)
    this.loop.start()
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop.stop()
    await this.syncing
    await Promise.all([...this.running.keys()].map((name) => this.halt(name)))
  }

  /** The loops to watch for /health: this set's own and each source's. */
  loops(): Loop[] {
    return [this.loop, ...[...this.running.values()].map((r) => r.loop)]
  }

  /** Each running source: the file's in the file's order, then the stored ones by name. */
  statuses(): SourceStatus[] {
    const rank = (r: Running) => (r.wanted.origin === 'file' ? this.file.findIndex((c) => c.name === r.wanted.name) : this.file.length)
    return [...this.running.values()]
      .sort((a, b) => rank(a) - rank(b) || a.wanted.name.localeCompare(b.wanted.name))
      .map((r) => ({...r.source.status(), origin: r.wanted.origin}))
  }

  /** A source made through the API (a body as an entry of the file): stored, then started here; its status. */
  async add(raw: unknown, actor: string): Promise<SourceStatus> {
    const config = parseSource(raw, '')
    if (this.file.some((c) => c.name === config.name)) throw new ApiError(409, `a source named ${config.name} exists already (it comes from the --sources file)`)
    if (!(await this.host.sourceStore.create({name: config.name, config: JSON.stringify(raw), created_by: actor, created_at: Date.now()}))) {
      throw new ApiError(409, `a source named ${config.name} exists already`)
    }
    await this.sync()
    const status = this.statuses().find((s) => s.name === config.name)
    if (!status) throw new ApiError(409, `source ${config.name} was stored but does not run: ${this.skipped.get(config.name) ?? 'it was removed meanwhile'}`)
    return status
  }

  /** Removes a source made through the API: its loop stops here at once, on other servers at their next look. */
  async remove(name: string): Promise<{name: string; deleted: true}> {
    if (this.file.some((c) => c.name === name)) throw new ApiError(409, `source ${name} comes from the --sources file: remove it there and restart the server`)
    if (!(await this.host.sourceStore.remove(name))) throw new ApiError(404, `no source named ${name} (see GET /mgmt/sources)`)
    await this.sync()
    return {name, deleted: true}
  }

  /** Reads the stored sources and starts and stops loops to match (one look at a time). */
  sync(): Promise<void> {
    const next = this.syncing.then(async () => {
      if (this.stopped) return
      const {wanted, skipped} = wantedSources(this.file, await this.host.sourceStore.list())
      for (const [name, why] of skipped) if (this.skipped.get(name) !== why) this.log(`source ${name} (stored): ${why}`)
      this.skipped = skipped
      const {start, stop} = reconcile(wanted, [...this.running.values()].map((r) => r.wanted))
      await Promise.all(stop.map((name) => this.halt(name)))
      for (const name of start) this.launch(wanted.find((w) => w.name === name)!)
    })
    this.syncing = next.catch(() => undefined)
    return next
  }

  private launch(wanted: Wanted): void {
    const source = openSource(wanted.config, this.host, this.log)
    const loop = new Loop(`source ${wanted.name}`, source.intervalMs, () => source.step(), this.log)
    this.running.set(wanted.name, {wanted, source, loop})
    loop.start()
  }

  private async halt(name: string): Promise<void> {
    const r = this.running.get(name)
    if (!r) return
    this.running.delete(name)
    await r.loop.stop()
    await r.source.close()
  }
}
