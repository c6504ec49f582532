import {resolveSparkDist} from '../engines/spark/dist.js'
import type {ImageBuildReport} from '../output/results.js'
import {buildRuntimeImage, defaultImageTag, imageDir, type RuntimeImage, type RuntimeImageRequest} from './image-build.js'

/**
 * The Spark image for Kubernetes (images/spark): the Dockerfile, its entrypoint and the Spark runtime archive, built
 * and cached by content (image-build.ts).
 */

export const SPARK_IMAGE: RuntimeImage = {
  folder: 'spark',
  what: 'Spark',
  example: 'spark-4.3.0-bin-hadoop3.tgz',
  distName: 'spark-dist.tgz',
  versionLabel: 'org.apache.spark.version',
  resolve: resolveSparkDist,
}

/** The default tag for a Spark version: cms/spark:4.3.0. */
export function defaultSparkImageTag(sparkVersion: string | undefined): string {
  return defaultImageTag('cms/spark', SPARK_IMAGE.what, sparkVersion, SPARK_IMAGE.example)
}

export function sparkImageDir(): string {
  return imageDir(SPARK_IMAGE.folder)
}

/** Builds (or finds already built) the Spark image for the runtime `distSource` (checked: checkSparkDistSource). */
export async function buildSparkImage(req: RuntimeImageRequest): Promise<Omit<ImageBuildReport, 'image'>> {
  const {version, ...built} = await buildRuntimeImage(SPARK_IMAGE, req)
  return {...built, sparkVersion: version}
}
