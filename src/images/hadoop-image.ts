import type Dockerode from 'dockerode'
import {resolveHadoopDist} from '../engines/hadoop/dist.js'
import type {ImageBuildReport} from '../output/results.js'
import {buildImage, checkImageReference, DEFAULT_BASE_IMAGE, defaultImageTag, imageDir} from './image-build.js'

/**
 * The Hadoop image for Kubernetes (images/hadoop): the Dockerfile, its entrypoint and the Hadoop runtime cms ships to
 * hosts (scripts/hadoop-dist.sh), built and cached by content (image-build.ts). One image for every role.
 */

export const HADOOP_IMAGE_REPOSITORY = 'cms/hadoop'
const CONTEXT_FILES = ['Dockerfile', 'entrypoint.sh'] as const

/** The default tag for a Hadoop version: cms/hadoop:3.4.3. */
export function defaultHadoopImageTag(hadoopVersion: string | undefined): string {
  return defaultImageTag(HADOOP_IMAGE_REPOSITORY, 'Hadoop', hadoopVersion, 'hadoop-3.4.3-cms.tgz')
}

export function hadoopImageDir(): string {
  return imageDir('hadoop')
}

export interface HadoopImageRequest {
  /** The Hadoop runtime: a local path or URL already checked (checkHadoopDistSource). */
  distSource: string
  tag?: string
  baseImage?: string
  log: (line: string) => void
  /** The build folder (default images/hadoop of the package). */
  contextDir?: string
  docker?: Dockerode
}

export type HadoopImageResult = Omit<ImageBuildReport, 'image'>

/** Builds (or finds already built) the Hadoop image for the runtime `distSource`. */
export async function buildHadoopImage(req: HadoopImageRequest): Promise<HadoopImageResult> {
  const started = Date.now()
  if (req.tag !== undefined) checkImageReference(req.tag, 'tag')
  const dist = await resolveHadoopDist(req.distSource, req.log)
  const built = await buildImage({
    tag: req.tag ?? defaultHadoopImageTag(dist.version),
    contextDir: req.contextDir ?? hadoopImageDir(),
    contextFiles: CONTEXT_FILES,
    dist: {path: dist.path!, bytes: dist.bytes, id: dist.id},
    distName: 'hadoop-dist.tgz',
    baseImage: req.baseImage ?? DEFAULT_BASE_IMAGE,
    labels: {'org.apache.hadoop.version': dist.version ?? 'unknown'},
    log: req.log,
    docker: req.docker,
  })
  return {...built, hadoopVersion: dist.version, seconds: (Date.now() - started) / 1000}
}
