/**
 * Which framework a .jar app is written for, from its own classes: a Spark app's classes name Spark's packages
 * (org/apache/spark/...), a MapReduce job's name Hadoop's MapReduce API (org/apache/hadoop/mapreduce/ or the old
 * org/apache/hadoop/mapred/) and not Spark. Class files keep the names they use as plain text in their constant
 * pools, so reading the (inflated) bytes of the jar's classes is enough; nothing is loaded or run.
 */
import {readFile} from 'node:fs/promises'
import {inflateRawSync} from 'node:zlib'

export type JarFramework = 'spark' | 'mapreduce'

interface ZipEntry {
  name: string
  method: number
  compressedSize: number
  localOffset: number
}

/** The entries of a zip file's central directory (zip64 archives and damaged files: none). */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const min = Math.max(0, zip.length - 22 - 0xffff)
  let eocd = -1
  for (let i = zip.length - 22; i >= min; i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i
      break
    }
  }
  if (eocd === -1) return []
  const count = zip.readUInt16LE(eocd + 10)
  let at = zip.readUInt32LE(eocd + 16)
  const out: ZipEntry[] = []
  for (let n = 0; n < count && at + 46 <= zip.length; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) break
    const nameLength = zip.readUInt16LE(at + 28)
    out.push({
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      localOffset: zip.readUInt32LE(at + 42),
      name: zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'),
    })
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32)
  }
  return out
}

/** One entry's bytes (stored or deflated); undefined for another method or a damaged entry. */
export function zipEntryData(zip: Buffer, entry: ZipEntry): Buffer | undefined {
  const at = entry.localOffset
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== 0x04034b50) return undefined
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28)
  const raw = zip.subarray(start, start + entry.compressedSize)
  try {
    if (entry.method === 0) return raw
    if (entry.method === 8) return inflateRawSync(raw)
  } catch {
    return undefined
  }
  return undefined
}

const SPARK = Buffer.from('org/apache/spark/')
const MAPREDUCE = [Buffer.from('org/apache/hadoop/mapreduce/'), Buffer.from('org/apache/hadoop/mapred/')]

function frameworkOf(classes: Buffer[]): JarFramework | undefined {
  if (classes.some((c) => c.includes(SPARK))) return 'spark'
  if (classes.some((c) => MAPREDUCE.some((m) => c.includes(m)))) return 'mapreduce'
  return undefined
}

/**
 * The framework of the jar's main class (its own class and its nested classes first, then every class of the
 * jar); Spark when nothing says MapReduce, so that a jar cms cannot read keeps running as Spark.
 */
export function classifyJar(zip: Buffer, mainClass: string): JarFramework {
  const entries = zipEntries(zip).filter((e) => e.name.endsWith('.class'))
  const main = mainClass.replace(/\./g, '/')
  const own = entries.filter((e) => e.name === `${main}.class` || e.name.startsWith(`${main}$`))
  const read = (list: ZipEntry[]) => list.map((e) => zipEntryData(zip, e)).filter((b): b is Buffer => b !== undefined)
  return frameworkOf(read(own)) ?? frameworkOf(read(entries.filter((e) => !own.includes(e)))) ?? 'spark'
}

/** classifyJar of a local jar file. */
export async function jarFramework(path: string, mainClass: string): Promise<JarFramework> {
  return classifyJar(await readFile(path), mainClass)
}
