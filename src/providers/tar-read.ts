/** Reads the first file out of a tar stream, such as the one the Docker API returns for a single path. */
export async function readTarFile(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
  const tar = Buffer.concat(chunks)
  if (tar.length < 512) throw new Error('empty tar archive')
  const size = Number.parseInt(tar.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim(), 8)
  return tar.subarray(512, 512 + size)
}
