import {createHash} from 'node:crypto'
import {createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import {UPLOAD_NAME_RE} from '../files.js'
import type {FileRef, NewTask} from '../store/store.js'
import type {DirectorySourceConfig} from './config.js'
import {PolledSource, type SourceHost} from './source.js'
import {localFilesOf, TASK_FILE_RE, taskOfFile} from './task-file.js'

const MAX_FILE_BYTES = 1024 * 1024
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024

/**
 * A watched folder: each complete task file (its size and time unchanged for `settle`; a file renamed into the
 * folder is complete at once but waits the same) becomes a task, then moves to done/ (queued) or failed/ (refused,
 * with NAME.error saying why). A task's id comes from the file's name and content, so a crash between queueing
 * and moving the file queues nothing twice: the next look finds the task and moves the file.
 */
export class DirectorySource extends PolledSource {
  private readonly seen = new Map<string, {size: number; mtimeMs: number; since: number}>()

  constructor(
    readonly config: DirectorySourceConfig,
    private readonly host: SourceHost,
    private readonly log: (line: string) => void,
  ) {
    super(config.name, config.intervalMs, {kind: 'directory', from: config.path}, log)
  }

  async step(now = Date.now()): Promise<void> {
    let names: string[]
    try {
      names = readdirSync(this.config.path, {withFileTypes: true}).filter((e) => e.isFile() && TASK_FILE_RE.test(e.name)).map((e) => e.name)
    } catch (error) {
      this.health.fail(`cannot read ${this.config.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
      return
    }
    for (const name of [...this.seen.keys()]) if (!names.includes(name)) this.seen.delete(name)
    for (const name of names.sort()) {
      let st
      try {
        st = statSync(join(this.config.path, name))
      } catch {
        continue
      }
      const prev = this.seen.get(name)
      if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) {
        this.seen.set(name, {size: st.size, mtimeMs: st.mtimeMs, since: now})
        continue
      }
      if (now - prev.since < this.config.settleMs) continue
      this.seen.delete(name)
      try {
        await this.take(name)
      } catch (error) {
        // The database or the folder failed, not the file: it is looked at again on the next step.
        this.health.fail(`${name}: ${(error as Error).message.split('\n')[0]}`)
        return
      }
    }
    this.health.ok()
  }

  private async take(name: string): Promise<void> {
    const path = join(this.config.path, name)
    const {size, mtimeMs} = statSync(path)
    if (size > MAX_FILE_BYTES) return this.refuse(name, `larger than ${MAX_FILE_BYTES} bytes`)
    const text = readFileSync(path, 'utf8')
    let task: NewTask
    const uploads = new Map<string, FileRef>()
    try {
      const raw = taskOfFile(name, text, this.config.cluster)
      await this.upload(localFilesOf(raw), uploads)
      ;[task] = (await this.host.prepare([{raw, uploads}], false)) as [NewTask]
    } catch (error) {
      // What a refused file stored, and nothing else uses, goes again.
      for (const ref of uploads.values()) if (!(await this.host.store.referenced(ref.sha256))) this.host.files.remove(ref.sha256)
      if (error instanceof UsageError || error instanceof ApiError) return this.refuse(name, error.message)
      throw error
    }
    // The same file after a crash has the same id; the same content dropped again later is new work.
    const id = `${this.config.name}-${createHash('sha256').update(`${name}\0${mtimeMs}\0`).update(text).digest('hex').slice(0, 16)}`
    const [stored] = await this.host.store.insertTasks([{...task, id, source: this.config.name, note: `from ${name} in source ${this.config.name} (${this.config.path})`}], `source:${this.config.name}`)
    if (stored!.created) this.host.queued()
    this.health.counts.queued++
    this.moveTo('done', name)
  }

  /** The spec's local files, read from the folder by plain file name, stored as uploads into `out`. */
  private async upload(names: string[], out: Map<string, FileRef>): Promise<void> {
    for (const n of names) {
      if (!UPLOAD_NAME_RE.test(n)) throw new UsageError(`${n}: name a file of the folder by its plain name (or give a URL)`)
      const path = join(this.config.path, n)
      if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`${n}: not found in ${this.config.path}`)
      out.set(n, await this.host.files.put(n, createReadStream(path), MAX_UPLOAD_BYTES))
    }
  }

  private refuse(name: string, why: string): void {
    this.health.counts.refused++
    this.log(`source ${this.config.name}: ${name} refused: ${why}`)
    const dest = this.moveTo('failed', name)
    writeFileSync(`${dest}.error`, `${why}\n`)
  }

  /** Moves a task file into done/ or failed/ (a name taken there already gets a number); returns where it went. */
  private moveTo(folder: 'done' | 'failed', name: string): string {
    const dir = join(this.config.path, folder)
    mkdirSync(dir, {recursive: true})
    let dest = join(dir, name)
    for (let i = 1; existsSync(dest) && i < 10_000; i++) dest = join(dir, `${name}.${i}`)
    renameSync(join(this.config.path, name), dest)
    return dest
  }
}
