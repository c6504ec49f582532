import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type Dockerode from 'dockerode'
import {packageRoot} from '../config/package-root.js'
import {tarStream} from '../providers/tar.js'
import {UsageError} from '../remote/errors.js'

/**
 * Building one of cms's images (images/NAME) with the local Docker engine, from a context of the folder's files and a
 * runtime archive, streamed (the runtime is never held in memory). Cached by content: the image carries a label with
 * the hash of every input (the folder's files, the runtime's hash, the base image's id), and an image with the same
 * tag and label is kept as it is.
 */

export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim'
/** The label holding the hash of the build's inputs. */
export const INPUTS_LABEL = 'cms.image.inputs'

/** `name[:tag]` with an optional registry host[:port]; lower-case path components, as Docker requires. */
const REFERENCE_RE = /^(?:[a-zA-Z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/

/** Checks an image reference given by a user (no digest form); UsageError naming the problem. */
export function checkImageReference(ref: string, what = 'image'): string {
  if (ref.length > 255 || !REFERENCE_RE.test(ref)) throw new UsageError(`invalid ${what} reference ${JSON.stringify(ref)}: expected [REGISTRY/]NAME[:TAG] with a lower-case name`)
  return ref
}

/** The default tag of an image for a runtime version (cms/spark:4.3.0); without a version, --tag is needed. */
export function defaultImageTag(repository: string, what: string, version: string | undefined, example: string): string {
  if (!version || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(version)) {
    throw new UsageError(`cannot tell the ${what} version from the distribution's file name (like ${example}): pass --tag`)
  }
  return `${repository}:${version}`
}

/** images/NAME of the package. */
export function imageDir(name: string): string {
  return join(packageRoot(), 'images', name)
}

/** The hash that names a build's inputs: the image folder's files, the runtime's content hash, the base image's id. */
export function imageInputsHash(files: Record<string, Buffer | string>, distId: string, baseImageId: string): string {
  const hash = createHash('sha256')
  for (const name of Object.keys(files).sort()) hash.update(name).update('\0').update(files[name]!).update('\0')
  return hash.update(`dist=${distId}\0base=${baseImageId}`).digest('hex')
}

export async function dockerClient(): Promise<Dockerode> {
  const {default: Docker} = await import('dockerode')
  return new Docker()
}

/** What to build: the folder's files, the runtime (already resolved to a local archive) and how to name the image. */
export interface ImageRecipe {
  tag: string
  /** The build folder and the files of it that make the context (executable when they end in .sh). */
  contextDir: string
  contextFiles: readonly string[]
  /** The runtime archive, put in the context as `distName`. */
  dist: {path: string; bytes: number; id: string}
  distName: string
  baseImage: string
  /** Labels besides the inputs label. */
  labels: Record<string, string>
  log: (line: string) => void
  docker?: Dockerode
}

export interface BuiltImage {
  tag: string
  id: string
  /** false: an image with the same inputs was there already (nothing rebuilt). */
  built: boolean
  sizeBytes: number
}

/** Builds the image, or finds it built already from the same inputs. */
export async function buildImage(r: ImageRecipe): Promise<BuiltImage> {
  checkImageReference(r.tag, 'tag')
  const baseImage = checkImageReference(r.baseImage, 'base image')
  const docker = r.docker ?? (await dockerClient())
  const base = await docker
    .getImage(baseImage)
    .inspect()
    .catch(() => {
      throw new UsageError(`the base image ${baseImage} is not in the local Docker engine (scripts/testbed.sh makes debian:bookworm-slim)`)
    })
  const files = Object.fromEntries(r.contextFiles.map((f) => [f, readFileSync(join(r.contextDir, f))]))
  const inputs = imageInputsHash(files, r.dist.id, base.Id)

  const existing = await docker.getImage(r.tag).inspect().catch(() => undefined)
  if (existing?.Config?.Labels?.[INPUTS_LABEL] === inputs) return {tag: r.tag, id: existing.Id, built: false, sizeBytes: existing.Size}

  r.log(`Building ${r.tag} from ${r.contextDir} with ${r.dist.path} (${(r.dist.bytes / 2 ** 20).toFixed(0)} MiB)`)
  const context = tarStream([
    ...r.contextFiles.map((f) => ({path: f, content: files[f]!, mode: f.endsWith('.sh') ? 0o755 : 0o644})),
    {path: r.distName, file: r.dist.path, size: r.dist.bytes, mode: 0o644},
  ])
  const stream = await docker.buildImage(context, {t: r.tag, rm: true, forcerm: true, buildargs: {BASE_IMAGE: baseImage}, labels: {[INPUTS_LABEL]: inputs, ...r.labels}})
  // The build's last lines explain a failure (apt's message comes before Docker's "returned a non-zero code").
  const tail: string[] = []
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Array<{error?: string}>) => {
        const failed = events?.find((e) => e.error)
        if (error || failed) {
          for (const line of tail) r.log(`  ${line}`)
          reject(new Error(`building ${r.tag} failed: ${(error?.message ?? failed?.error ?? '').trim().split('\n')[0]}`))
        } else resolve()
      },
      (event: {stream?: string}) => {
        for (const raw of (event.stream ?? '').split('\n')) {
          const line = raw.trimEnd()
          if (!line) continue
          tail.push(line)
          if (tail.length > 15) tail.shift()
          if (/^Step \d+\/\d+ : /.test(line)) r.log(line.length > 160 ? `${line.slice(0, 157)}...` : line)
        }
      },
    )
  })
  const image = await docker.getImage(r.tag).inspect()
  return {tag: r.tag, id: image.Id, built: true, sizeBytes: image.Size}
}

/** One of cms's runtime images: its folder, its default repository and how its runtime archive is found. */
export interface RuntimeImage {
  /** images/FOLDER; also the default repository cms/FOLDER. */
  folder: string
  /** For messages: Spark, Hadoop. */
  what: string
  /** A runtime file name that carries its version, for the message asking for --tag. */
  example: string
  /** The runtime's name in the build context (the Dockerfile COPYs it). */
  distName: string
  /** The label that records the runtime's version. */
  versionLabel: string
  resolve: (source: string, log: (line: string) => void) => Promise<{path?: string; bytes: number; id: string; version?: string}>
}

export interface RuntimeImageRequest {
  /** The runtime: a local path or URL already checked. */
  distSource: string
  tag?: string
  baseImage?: string
  log: (line: string) => void
  /** The build folder (default images/FOLDER of the package). */
  contextDir?: string
  docker?: Dockerode
}

const CONTEXT_FILES = ['Dockerfile', 'entrypoint.sh'] as const

/** Builds (or finds already built) the image of `kind` for the runtime `distSource`, tagged cms/FOLDER:VERSION by default. */
export async function buildRuntimeImage(kind: RuntimeImage, req: RuntimeImageRequest): Promise<BuiltImage & {version?: string; seconds: number}> {
  const started = Date.now()
  if (req.tag !== undefined) checkImageReference(req.tag, 'tag')
  const dist = await kind.resolve(req.distSource, req.log)
  const built = await buildImage({
    tag: req.tag ?? defaultImageTag(`cms/${kind.folder}`, kind.what, dist.version, kind.example),
    contextDir: req.contextDir ?? imageDir(kind.folder),
    contextFiles: CONTEXT_FILES,
    dist: {path: dist.path!, bytes: dist.bytes, id: dist.id},
    distName: kind.distName,
    baseImage: req.baseImage ?? DEFAULT_BASE_IMAGE,
    labels: {[kind.versionLabel]: dist.version ?? 'unknown'},
    log: req.log,
    docker: req.docker,
  })
  return {...built, version: dist.version, seconds: (Date.now() - started) / 1000}
}
