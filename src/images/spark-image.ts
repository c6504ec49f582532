import type Dockerode from 'dockerode'
import {resolveSparkDist, type SparkDist} from '../engines/spark/dist.js'
import type {ImageBuildReport} from '../output/results.js'
import {buildImage, checkImageReference, DEFAULT_BASE_IMAGE, defaultImageTag, imageDir} from './image-build.js'

/**
 * The Spark image for Kubernetes (images/spark): the Dockerfile, its entrypoint and the Spark runtime archive, built
 * and cached by content (image-build.ts).
 */

export const SPARK_IMAGE_REPOSITORY = 'cms/spark'
const CONTEXT_FILES = ['Dockerfile', 'entrypoint.sh'] as const

/** The default tag for a Spark version: cms/spark:4.3.0. */
export function defaultSparkImageTag(sparkVersion: string | undefined): string {
  return defaultImageTag(SPARK_IMAGE_REPOSITORY, 'Spark', sparkVersion, 'spark-4.3.0-bin-hadoop3.tgz')
}

export function sparkImageDir(): string {
  return imageDir('spark')
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

/** Builds (or finds already built) the Spark image for the runtime `distSource`. */
export async function buildSparkImage(req: SparkImageRequest): Promise<SparkImageResult> {
  const started = Date.now()
  if (req.tag !== undefined) checkImageReference(req.tag, 'tag')
  const dist: SparkDist = await resolveSparkDist(req.distSource, req.log)
  const built = await buildImage({
    tag: req.tag ?? defaultSparkImageTag(dist.version),
    contextDir: req.contextDir ?? sparkImageDir(),
    contextFiles: CONTEXT_FILES,
    dist: {path: dist.path!, bytes: dist.bytes, id: dist.id},
    distName: 'spark-dist.tgz',
    baseImage: req.baseImage ?? DEFAULT_BASE_IMAGE,
    labels: {'org.apache.spark.version': dist.version ?? 'unknown'},
    log: req.log,
    docker: req.docker,
  })
  return {...built, sparkVersion: dist.version, seconds: (Date.now() - started) / 1000}
}
