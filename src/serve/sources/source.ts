import type {FileStore} from '../files.js'
import type {SourceStore} from '../store/source-store.js'
import type {FileRef, NewTask, TaskStore} from '../store/store.js'
import type {TaskView} from '../views.js'

/**
 * What a source needs of the task service: the checks of POST /task, the stores, the files, a wake-up, and a task
 * as GET /task/{id} shows it (for completion events).
 */
export interface SourceHost {
  readonly store: TaskStore
  readonly sourceStore: SourceStore
  readonly files: FileStore
  prepare(raws: ReadonlyArray<{raw: unknown; uploads?: ReadonlyMap<string, FileRef>}>, batch: boolean): Promise<NewTask[]>
  queued(): void
  task(id: string): Promise<TaskView>
}

export interface SourceStatus {
  name: string
  kind: string
  /** Where it is configured: the --sources file, or POST /mgmt/sources (stored in the database). */
  origin: 'file' | 'api'
  /** Where it reads (a folder, a table). */
  from: string
  lastOkAt?: string
  lastError?: string
  queued: number
  refused: number
}

/** How a source's looks went, as the source itself knows it (its origin is the source set's). */
export type SourceLook = Omit<SourceStatus, 'origin'>

/** A place work comes from, looked at by a loop of the service every `intervalMs`; a step never throws. */
export interface JobSource {
  readonly name: string
  readonly intervalMs: number
  step(): Promise<void>
  status(): SourceLook
  close(): Promise<void>
}

/** How a source's looks went: counts, the last good look, the current problem (logged once when it changes). */
export class SourceHealth {
  readonly counts = {queued: 0, refused: 0}
  private lastOkAt?: number
  private lastError?: string

  constructor(
    private readonly who: {name: string; kind: string; from: string},
    private readonly log: (line: string) => void,
  ) {}

  ok(): void {
    this.lastOkAt = Date.now()
    this.lastError = undefined
  }

  fail(line: string): void {
    if (line !== this.lastError) this.log(`source ${this.who.name}: ${line}`)
    this.lastError = line
  }

  status(): SourceLook {
    return {
      ...this.who,
      ...(this.lastOkAt ? {lastOkAt: new Date(this.lastOkAt).toISOString()} : {}),
      ...(this.lastError ? {lastError: this.lastError} : {}),
      ...this.counts,
    }
  }
}

/** A source looked at on an interval, with its health kept for /health, /mgmt/sources and the dashboard. */
export abstract class PolledSource implements JobSource {
  protected readonly health: SourceHealth

  constructor(
    readonly name: string,
    readonly intervalMs: number,
    where: {kind: string; from: string},
    log: (line: string) => void,
  ) {
    this.health = new SourceHealth({name, ...where}, log)
  }

  abstract step(): Promise<void>

  status(): SourceLook {
    return this.health.status()
  }

  async close(): Promise<void> {}
}
