import {createHash, randomBytes} from 'node:crypto'
import {chmodSync, createWriteStream, existsSync, linkSync, mkdirSync, copyFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Transform, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import type {FileRef} from './store/store.js'

/** A file name a spec may name an uploaded file by: no directories, nothing hidden. */
export const UPLOAD_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}$/

/**
 * Uploaded files, content-addressed under the service's data directory (0600, in 0700 folders): the same content
 * is kept once, whatever task sent it. A task's attempt gets a work folder with each file under the name its spec
 * uses, removed once the engine has taken the files.
 */
export class FileStore {
  private readonly filesDir: string
  private readonly workDir: string

  constructor(dataDir: string) {
    this.filesDir = join(dataDir, 'files')
    this.workDir = join(dataDir, 'work')
    for (const d of [dataDir, this.filesDir, this.workDir]) mkdirSync(d, {recursive: true, mode: 0o700})
  }

  pathOf(sha256: string): string {
    return join(this.filesDir, sha256.slice(0, 2), sha256)
  }

  /** Streams an upload to its content address; throws (and keeps nothing) if it is larger than `maxBytes`. */
  async put(name: string, source: Readable, maxBytes: number): Promise<FileRef> {
    const tmp = join(this.filesDir, `.upload-${randomBytes(8).toString('hex')}`)
    const hash = createHash('sha256')
    let size = 0
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length
        if (size > maxBytes) return done(new UploadTooLargeError(name, maxBytes))
        hash.update(chunk)
        done(null, chunk)
      },
    })
    try {
      await pipeline(source, count, createWriteStream(tmp, {mode: 0o600}))
      // A multipart parser that hit its own size limit ends the stream early instead of failing it.
      if ((source as Readable & {truncated?: boolean}).truncated) throw new UploadTooLargeError(name, maxBytes)
    } catch (error) {
      rmSync(tmp, {force: true})
      throw error
    }
    const sha256 = hash.digest('hex')
    const dest = this.pathOf(sha256)
    mkdirSync(join(this.filesDir, sha256.slice(0, 2)), {recursive: true, mode: 0o700})
    if (existsSync(dest)) rmSync(tmp, {force: true})
    else renameSync(tmp, dest)
    return {name, sha256, size}
  }

  has(ref: FileRef): boolean {
    try {
      return statSync(this.pathOf(ref.sha256)).size === ref.size
    } catch {
      return false
    }
  }

  /** A fresh folder for one attempt, holding each file under its name and `extra` files written as given. */
  materialize(key: string, refs: readonly FileRef[], extra: Record<string, string>): {dir: string; remove: () => void} {
    const dir = join(this.workDir, `${key}-${randomBytes(4).toString('hex')}`)
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const remove = () => rmSync(dir, {recursive: true, force: true})
    try {
      for (const ref of refs) {
        const target = join(dir, ref.name)
        try {
          linkSync(this.pathOf(ref.sha256), target)
        } catch {
          copyFileSync(this.pathOf(ref.sha256), target)
          chmodSync(target, 0o600)
        }
      }
      for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content, {mode: 0o600})
    } catch (error) {
      remove()
      throw error
    }
    return {dir, remove}
  }

  remove(sha256: string): void {
    rmSync(this.pathOf(sha256), {force: true})
  }
}

export class UploadTooLargeError extends Error {
  constructor(name: string, maxBytes: number) {
    super(`files: ${name} is larger than the service's limit of ${maxBytes} bytes`)
    this.name = 'UploadTooLargeError'
  }
}
