import type {FastifyRequest} from 'fastify'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import {UPLOAD_NAME_RE, UploadTooLargeError, type FileStore} from '../files.js'
import type {FileRef, TaskStore} from '../store/store.js'

/**
 * A multipart task (or schedule): the JSON in a field named `task` (`schedule`), the spec's files as file parts (any
 * part name; each is known by its file name). Files are stored as they stream in; if the request is refused, the
 * ones nothing references are removed again (`discard`).
 */
export async function readMultipartTask(req: FastifyRequest, files: FileStore, store: TaskStore, maxBytes: number, field: 'task' | 'schedule' = 'task'): Promise<{raw: unknown; uploads: Map<string, FileRef>; discard: () => Promise<void>}> {
  const uploads = new Map<string, FileRef>()
  const discard = async () => {
    for (const ref of uploads.values()) if (!(await store.referenced(ref.sha256))) files.remove(ref.sha256)
  }
  let text: string | undefined
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const name = part.filename
        if (!UPLOAD_NAME_RE.test(name)) throw new UsageError(`files: ${JSON.stringify(name)} is not a usable file name (letters, digits, ".", "_", "+", "-"; no folders, not hidden)`)
        if (uploads.has(name)) throw new UsageError(`files: ${name} was sent twice`)
        try {
          uploads.set(name, await files.put(name, part.file, maxBytes))
        } catch (error) {
          if (error instanceof UploadTooLargeError || (error as {code?: string}).code === 'FST_REQ_FILE_TOO_LARGE') throw new ApiError(413, new UploadTooLargeError(name, maxBytes).message)
          throw error
        }
      } else if (part.fieldname === field) {
        if (part.valueTruncated) throw new ApiError(413, `${field}: the ${field} field is larger than 1 MiB`)
        text = String(part.value)
      } else {
        throw new UsageError(`${part.fieldname}: unknown form field (send the ${field} as JSON in a field named ${field}, and files as file parts)`)
      }
    }
    if (text === undefined) throw new UsageError(`${field}: required (a form field holding the ${field} as JSON)`)
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (error) {
      throw new UsageError(`${field}: invalid JSON: ${(error as Error).message}`)
    }
    return {raw, uploads, discard}
  } catch (error) {
    await discard()
    throw error
  }
}
