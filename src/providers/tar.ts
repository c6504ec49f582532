import {createReadStream} from 'node:fs'
import {Readable} from 'node:stream'

/**
 * A minimal ustar writer: the few small files cms puts into a container before it starts (host keys), and image
 * build contexts that stream a large local file (a Spark runtime) without holding it in memory.
 */
export interface TarEntry {
  path: string
  content: string | Buffer
  mode: number
}

export function tarHeader(path: string, size: number, mode: number): Buffer {
  if (Buffer.byteLength(path) > 99) throw new Error(`tar path too long: ${path}`)
  const h = Buffer.alloc(512)
  const put = (value: string, offset: number, length: number) => h.write(value.slice(0, length), offset, 'utf8')
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0'
  put(path, 0, 100)
  put(octal(mode, 8), 100, 8)
  put(octal(0, 8), 108, 8)
  put(octal(0, 8), 116, 8)
  put(octal(size, 12), 124, 12)
  put(octal(Math.floor(Date.now() / 1000), 12), 136, 12)
  h.fill(' ', 148, 156)
  put('0', 156, 1)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const byte of h) sum += byte
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8)
  return h
}

export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = []
  for (const entry of entries) {
    const body = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content)
    parts.push(tarHeader(entry.path, body.length, entry.mode), body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

/** A local file put into a tar stream as `path`; `size` is the file's size in bytes (checked while streaming). */
export interface TarFileEntry {
  path: string
  file: string
  size: number
  mode: number
}

const padding = (size: number) => Buffer.alloc((512 - (size % 512)) % 512)

/** A tar stream of in-memory entries and local files, read one file at a time. */
export function tarStream(entries: Array<TarEntry | TarFileEntry>): Readable {
  async function* generate() {
    for (const entry of entries) {
      if ('file' in entry) {
        yield tarHeader(entry.path, entry.size, entry.mode)
        let sent = 0
        for await (const chunk of createReadStream(entry.file, {highWaterMark: 1 << 20})) {
          sent += (chunk as Buffer).length
          yield chunk as Buffer
        }
        if (sent !== entry.size) throw new Error(`${entry.file} changed while it was being read (${sent} bytes, expected ${entry.size})`)
        yield padding(entry.size)
      } else {
        const body = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content)
        yield Buffer.concat([tarHeader(entry.path, body.length, entry.mode), body, padding(body.length)])
      }
    }
    yield Buffer.alloc(1024)
  }
  return Readable.from(generate(), {objectMode: false})
}
