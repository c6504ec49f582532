import type {MultipartFile} from '@fastify/multipart'
import type {FastifyRequest} from 'fastify'
import {UPLOAD_NAME_RE, type FileStore} from '../files.js'
import type {FileRef, TaskStore} from '../store/store.js'
import {sameToken} from './session.js'
import {FormError} from './submit-form.js'

/**
 * A dashboard form posted as multipart/form-data whose first field is the session's CSRF token (so no file is stored
 * for a forged post): its fields (kept as far as they were read, to show the form again), and the files stored from it.
 */
export class MultipartForm {
  readonly fields: Record<string, string> = {}
  /** Stored uploads by file name. */
  readonly stored = new Map<string, FileRef>()

  constructor(private readonly deps: {csrf: string; files: FileStore; store: TaskStore; maxUploadBytes: number}) {}

  /**
   * Reads the form; false for a forged post (a missing or wrong token first). File parts go to `onFile`, which
   * either reads them itself or calls `store(field)` (a usable, unique file name; errors are given to `field`).
   */
  async read(req: FastifyRequest, onFile: (part: MultipartFile, store: (field: string) => Promise<void>) => Promise<void>): Promise<boolean> {
    let csrfChecked = false
    for await (const part of req.parts()) {
      if (!csrfChecked) {
        if (part.type !== 'field' || part.fieldname !== '_csrf' || !sameToken(String(part.value), this.deps.csrf)) return false
        csrfChecked = true
        continue
      }
      if (part.type === 'field') {
        this.fields[part.fieldname] = String(part.value)
        continue
      }
      if (!part.filename) {
        part.file.resume()
        continue
      }
      await onFile(part, async (field) => {
        if (!UPLOAD_NAME_RE.test(part.filename)) throw new FormError(field, `${JSON.stringify(part.filename)} is not a usable file name (letters, digits, ".", "_", "+", "-")`)
        if (this.stored.has(part.filename)) throw new FormError(field, `${part.filename} was uploaded twice`)
        this.stored.set(part.filename, await this.deps.files.put(part.filename, part.file, this.deps.maxUploadBytes))
      })
    }
    return true
  }

  /** Removes the stored files nothing references (the form was refused). */
  async discard(): Promise<void> {
    for (const ref of this.stored.values()) if (!(await this.deps.store.referenced(ref.sha256))) this.deps.files.remove(ref.sha256)
  }
}
