import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type Dockerode from 'dockerode'
import {packageRoot} from '../config/package-root.js'
import {resolveSparkDist, type SparkDist} from '../engines/spark/dist.js'
import type {ImageBuildReport} from '../output/results.js'
import {tarStream} from '../providers/tar.js'
import {UsageError} from '../remote/errors.js'

/**
 * The Spark image for Kubernetes (images/spark): built with the local Docker engine from a context of the
 * Dockerfile, its entrypoint and the Spark runtime archive, streamed (the runtime is never held in memory). Cached
 * by content: the image carries a label with the hash of every input (both files, the runtime's hash, the base
 * image's id), and an image with the same tag and label is kept as it is.
 */

export const SPARK_IMAGE_REPOSITORY = 'cms/spark'
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim'
/** The label holding the hash of the build's inputs. */
export const INPUTS_LABEL = 'cms.image.inputs'
const CONTEXT_FILES = ['Dockerfile', 'entrypoint.sh'] as const

/** `name[:tag]` with an optional registry host[:port]; lower-case path components, as Docker requires. */
const REFERENCE_RE = /^(?:[a-zA-Z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/

/** Checks an image reference given by a user (no digest form); UsageError naming the problem. */
export function checkImageReference(ref: string, what = 'image'): string {
  if (ref.length > 255 || !REFERENCE_RE.test(ref)) throw new UsageError(`invalid ${what} reference ${JSON.stringify(ref)}: expected [REGISTRY/]NAME[:TAG] with a lower-case name`)
  return ref
}

/** The default tag for a Spark version: cms/spark:4.3.0. */
export function defaultSparkImageTag(sparkVersion: string | undefined): string {
  if (!sparkVersion || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(sparkVersion)) {
    throw new UsageError('cannot tell the Spark version from the distribution\'s file name (like spark-4.3.0-bin-hadoop3.tgz): pass --tag')
  }
  return `${SPARK_IMAGE_REPOSITORY}:${sparkVersion}`
}

export function sparkImageDir(): string {
  return join(packageRoot(), 'images', 'spark')
}

/** The hash that names a build's inputs: the image folder's files, the runtime's content hash, the base image's id. */
export function sparkImageInputsHash(files: Record<string, Buffer | string>, distId: string, baseImageId: string): string {
  const hash = createHash('sha256')
  for (const name of Object.keys(files).sort()) hash.update(name).update('\0').update(files[name]!).update('\0')
  return hash.update(`dist=${distId}\0base=${baseImageId}`).digest('hex')
}

export interface SparkImageRequest {
  /** The Spark runtime: a local path or URL already checked (checkSparkDistSource). */
  distSource: string
  tag?: string
  baseImage?: string
  log: (line: string) => void
  /** The build folder (default images/spark of the package). */
  contextDir?: string
  docker?: Dockerode
}

/** What a build made (or found already made): the --json result without the image's kind. */
export type SparkImageResult = Omit<ImageBuildReport, 'image'>

export async function dockerClient(): Promise<Dockerode> {
  const {default: Docker} = await import('dockerode')
  return new Docker()
}

/** Builds (or finds already built) the Spark image for the runtime `distSource`. */
export async function buildSparkImage(req: SparkImageRequest): Promise<SparkImageResult> {
  const started = Date.now()
  if (req.tag !== undefined) checkImageReference(req.tag, 'tag')
  const dist: SparkDist = await resolveSparkDist(req.distSource, req.log)
  const tag = req.tag ?? defaultSparkImageTag(dist.version)
  const baseImage = checkImageReference(req.baseImage ?? DEFAULT_BASE_IMAGE, 'base image')
  const docker = req.docker ?? (await dockerClient())
  const base = await docker
    .getImage(baseImage)
    .inspect()
    .catch(() => {
      throw new UsageError(`the base image ${baseImage} is not in the local Docker engine (scripts/testbed.sh makes debian:bookworm-slim)`)
    })
  const dir = req.contextDir ?? sparkImageDir()
  const files = Object.fromEntries(CONTEXT_FILES.map((f) => [f, readFileSync(join(dir, f))]))
  const inputs = sparkImageInputsHash(files, dist.id, base.Id)

  const existing = await docker.getImage(tag).inspect().catch(() => undefined)
  if (existing?.Config?.Labels?.[INPUTS_LABEL] === inputs) {
    return {tag, id: existing.Id, sparkVersion: dist.version, built: false, sizeBytes: existing.Size, seconds: (Date.now() - started) / 1000}
  }

  req.log(`Building ${tag} from images/spark with ${dist.path} (${(dist.bytes / 2 ** 20).toFixed(0)} MiB)`)
  const context = tarStream([
    ...CONTEXT_FILES.map((f) => ({path: f, content: files[f]!, mode: f.endsWith('.sh') ? 0o755 : 0o644})),
    {path: 'spark-dist.tgz', file: dist.path!, size: dist.bytes, mode: 0o644},
  ])
  const stream = await docker.buildImage(context, {
    t: tag,
    rm: true,
    forcerm: true,
    buildargs: {BASE_IMAGE: baseImage},
    labels: {[INPUTS_LABEL]: inputs, 'org.apache.spark.version': dist.version ?? 'unknown'},
  })
  // The build's last lines explain a failure (apt's message comes before Docker's "returned a non-zero code").
  const tail: string[] = []
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Array<{error?: string}>) => {
        const failed = events?.find((e) => e.error)
        if (error || failed) {
          for (const line of tail) req.log(`  ${line}`)
          reject(new Error(`building ${tag} failed: ${(error?.message ?? failed?.error ?? '').trim().split('\n')[0]}`))
        } else resolve()
      },
      (event: {stream?: string}) => {
        for (const raw of (event.stream ?? '').split('\n')) {
          const line = raw.trimEnd()
          if (!line) continue
          tail.push(line)
          if (tail.length > 15) tail.shift()
          if (/^Step \d+\/\d+ : /.test(line)) req.log(line.length > 160 ? `${line.slice(0, 157)}...` : line)
        }
      },
    )
  })
  const image = await docker.getImage(tag).inspect()
  return {tag, id: image.Id, sparkVersion: dist.version, built: true, sizeBytes: image.Size, seconds: (Date.now() - started) / 1000}
}
