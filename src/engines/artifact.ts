import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync} from 'node:fs'
import {basename, join, resolve} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {localPaths} from '../config/paths.js'
import {UsageError} from '../remote/errors.js'

export type ArchiveExt = '.tgz' | '.tar' | '.zip'

/**
 * An archive every host of a cluster needs (a Spark runtime, the Nomad binary): shipped once to the head, fetched
 * from there by the other hosts, unpacked under ~/.cms/dist/<id> on each.
 */
export interface Artifact {
  /** For messages: "Spark", "Nomad". */
  what: string
  /** Local archive; absent when the head already holds it (add without a new dist). */
  path?: string
  /** Content hash prefix: names the unpacked archive on hosts, so another version never overwrites it. */
  id: string
  bytes: number
  archiveExt: ArchiveExt
  version?: string
  /** The option that names it, for messages: "--spark-dist". */
  flag: string
  /** A file the unpacked archive must contain (relative to its root, which may sit below a top folder). */
  probe: string
  /**
   * Only the head needs it (Spark on a hadoop cluster: jobs are submitted there, the other hosts get its jars from
   * HDFS): the head unpacks it as it arrives and keeps no copy of the archive.
   */
  headOnly?: boolean
}

export interface ArtifactKind {
  what: string
  flag: string
  envVar: string
  /** The release used when neither the flag nor the environment names one; else `noDefault` is the error. */
  defaultUrl?: string
  noDefault?: string
  extensions: readonly ArchiveExt[]
}

export function archiveExt(name: string, kind: Pick<ArtifactKind, 'what' | 'extensions'>): ArchiveExt {
  const ext: ArchiveExt | undefined =
    name.endsWith('.tgz') || name.endsWith('.tar.gz') ? '.tgz' : name.endsWith('.tar') ? '.tar' : name.endsWith('.zip') ? '.zip' : undefined
  if (!ext || !kind.extensions.includes(ext)) {
    const allowed = kind.extensions.map((e) => (e === '.tgz' ? '.tgz, .tar.gz' : e)).join(', ')
    throw new UsageError(`unsupported ${kind.what} distribution ${JSON.stringify(name)}: expected a ${allowed} archive`)
  }
  return ext
}

const isHttp = (s: string) => /^https?:\/\//.test(s)

/** The source to use (flag, else environment, else the pinned release), checked before anything is created. */
export function checkArtifactSource(spec: string | undefined, kind: ArtifactKind): string {
  const source = spec || process.env[kind.envVar] || kind.defaultUrl
  if (!source) throw new UsageError(kind.noDefault ?? `no ${kind.what} distribution: pass ${kind.flag} PATH or set ${kind.envVar}`)
  if (isHttp(source)) {
    archiveExt(new URL(source).pathname, kind)
    return source
  }
  const path = resolve(source)
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`${kind.what} distribution not found: ${path}`)
  archiveExt(path, kind)
  return path
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** A local file as given, or a URL downloaded once into the cache; hashed to name it on hosts. */
export async function resolveArtifact(
  source: string,
  kind: ArtifactKind,
  opts: {log: (line: string) => void; probe: string; version?: (path: string) => string | undefined},
): Promise<Artifact> {
  let path = source
  if (isHttp(source)) {
    const cacheDir = localPaths.distCache()
    path = join(cacheDir, basename(new URL(source).pathname))
    if (!existsSync(path)) {
      opts.log(`Downloading ${source} into ${cacheDir}`)
      mkdirSync(cacheDir, {recursive: true})
      const failed = (why: string) => new Error(`cannot download the ${kind.what} distribution ${source}: ${why} (pass ${kind.flag} PATH to use a local file)`)
      const response = await fetch(source).catch((error: Error) => {
        throw failed(error.message)
      })
      if (!response.ok) throw failed(`HTTP ${response.status}`)
      if (!response.body) throw failed('empty response')
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(`${path}.part`))
      renameSync(`${path}.part`, path)
    }
  }
  return {
    what: kind.what,
    path,
    id: (await sha256(path)).slice(0, 16),
    bytes: statSync(path).size,
    archiveExt: archiveExt(path, kind),
    version: opts.version?.(path),
    probe: opts.probe,
    flag: kind.flag,
  }
}

/**
 * The manifest settings that record an archive a cluster runs (`${prefix}Distribution`, `...Bytes`, `...ArchiveExt`,
 * `...Version`), so `add` ships the same one from the head.
 */
export function artifactSettings(prefix: string, a: Artifact): Record<string, string> {
  return {[`${prefix}Distribution`]: a.id, [`${prefix}DistributionBytes`]: String(a.bytes), [`${prefix}ArchiveExt`]: a.archiveExt, [`${prefix}Version`]: a.version ?? 'unknown'}
}

/** The archive recorded by artifactSettings, as held on the head (no local path). */
export function artifactFromSettings(prefix: string, settings: Record<string, string>, kind: Pick<ArtifactKind, 'what' | 'flag' | 'extensions'>, probe: string): Artifact | undefined {
  const id = settings[`${prefix}Distribution`]
  const bytes = Number(settings[`${prefix}DistributionBytes`])
  if (!id || !bytes) return undefined
  const recorded = settings[`${prefix}ArchiveExt`] as ArchiveExt
  const archiveExt = kind.extensions.includes(recorded) ? recorded : kind.extensions[0]!
  return {what: kind.what, id, bytes, archiveExt, version: settings[`${prefix}Version`], probe, flag: kind.flag}
}
