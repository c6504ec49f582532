import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync} from 'node:fs'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {basename, join, resolve} from 'node:path'
import {localPaths} from '../../config/paths.js'
import {UsageError} from '../../remote/errors.js'

/** Used when neither --spark-dist nor CMS_SPARK_DIST names a distribution. */
export const DEFAULT_SPARK_DIST_URL = 'https://archive.apache.org/dist/spark/spark-4.0.1/spark-4.0.1-bin-hadoop3.tgz'

export interface SparkDist {
  /** Local archive; absent when the cluster's head already holds the archive (add without --spark-dist). */
  path?: string
  /** Content hash prefix: names the unpacked distribution on hosts, so another version never overwrites it. */
  id: string
  bytes: number
  archiveExt: '.tgz' | '.tar'
  version?: string
}

export function archiveExtension(name: string): SparkDist['archiveExt'] {
  if (name.endsWith('.tgz') || name.endsWith('.tar.gz')) return '.tgz'
  if (name.endsWith('.tar')) return '.tar'
  throw new UsageError(`unsupported Spark distribution ${JSON.stringify(name)}: expected a .tgz, .tar.gz or .tar archive`)
}

export function versionFromName(name: string): string | undefined {
  return /spark-(\d+\.\d+\.\d+[\w.-]*?)(?:-bin|\.t)/.exec(basename(name))?.[1]
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Validates the source before anything is created (bad input: exit 2, no side effect). */
export function checkSparkDistSource(spec: string | undefined): string {
  const source = spec || process.env.CMS_SPARK_DIST || DEFAULT_SPARK_DIST_URL
  if (/^https?:\/\//.test(source)) {
    archiveExtension(new URL(source).pathname)
    return source
  }
  const path = resolve(source)
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`Spark distribution not found: ${path}`)
  archiveExtension(path)
  return path
}

/** Local path of the distribution: a file as given, or a URL downloaded once into the cache. */
export async function resolveSparkDist(source: string, log: (line: string) => void): Promise<SparkDist> {
  let path = source
  if (/^https?:\/\//.test(source)) {
    const cacheDir = localPaths.distCache()
    path = join(cacheDir, basename(new URL(source).pathname))
    if (!existsSync(path)) {
      log(`Downloading ${source} into ${cacheDir}`)
      mkdirSync(cacheDir, {recursive: true})
      const response = await fetch(source).catch((error: Error) => {
        throw new Error(`cannot download the Spark distribution ${source}: ${error.message} (pass --spark-dist PATH to use a local file)`)
      })
      if (!response.ok) throw new Error(`cannot download the Spark distribution ${source}: HTTP ${response.status}`)
      if (!response.body) throw new Error(`cannot download the Spark distribution ${source}: empty response`)
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(`${path}.part`))
      renameSync(`${path}.part`, path)
    }
  }
  return {
    path,
    id: (await sha256(path)).slice(0, 16),
    bytes: statSync(path).size,
    archiveExt: archiveExtension(path),
    version: versionFromName(path),
  }
}

/** The distribution a cluster runs, as recorded in its manifest: workers get it from the head, not the client. */
export function distFromSettings(settings: Record<string, string>): SparkDist | undefined {
  const id = settings.distribution
  const bytes = Number(settings.distributionBytes)
  if (!id || !bytes) return undefined
  return {id, bytes, archiveExt: settings.archiveExt === '.tar' ? '.tar' : '.tgz', version: settings.sparkVersion}
}

export function distSettings(dist: SparkDist): Record<string, string> {
  return {distribution: dist.id, distributionBytes: String(dist.bytes), archiveExt: dist.archiveExt, sparkVersion: dist.version ?? 'unknown'}
}
