import type {FileStore} from '../files.js'
import type {FileRef, NewTask, TaskStore} from '../store/store.js'

/** What a source needs of the task service: the checks of POST /task, the store, the files, a wake-up. */
export interface SourceHost {
  readonly store: TaskStore
  readonly files: FileStore
  prepare(raws: ReadonlyArray<{raw: unknown; uploads?: ReadonlyMap<string, FileRef>}>, batch: boolean): Promise<NewTask[]>
  queued(): void
}

export interface SourceStatus {
  name: string
  kind: string
  /** Where it reads (a folder, a table). */
  from: string
  lastOkAt?: string
  lastError?: string
  queued: number
  refused: number
}

/** A place work comes from, looked at by a loop of the service every `intervalMs`; a step never throws. */
export interface JobSource {
  readonly name: string
  readonly intervalMs: number
  step(): Promise<void>
  status(): SourceStatus
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

  status(): SourceStatus {
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

  status(): SourceStatus {
    return this.health.status()
  }

  async close(): Promise<void> {}
}
