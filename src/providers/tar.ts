/** A minimal ustar writer for the few small files cms puts into a container before it starts (host keys). */
export interface TarEntry {
  path: string
  content: string | Buffer
  mode: number
}

function header(path: string, size: number, mode: number): Buffer {
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
    parts.push(header(entry.path, body.length, entry.mode), body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}
