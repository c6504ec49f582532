import {resolveHadoopDist} from '../engines/hadoop/dist.js'
import type {ImageBuildReport} from '../output/results.js'
import {buildRuntimeImage, defaultImageTag, imageDir, type RuntimeImage, type RuntimeImageRequest} from './image-build.js'

/**
 * The Hadoop image for Kubernetes (images/hadoop): the Dockerfile, its entrypoint and the Hadoop runtime cms ships to
 * hosts (scripts/hadoop-dist.sh), built and cached by content (image-build.ts). One image for every role.
 */

export const HADOOP_IMAGE: RuntimeImage = {
  folder: 'hadoop',
  what: 'Hadoop',
  example: 'hadoop-3.4.3-cms.tgz',
  distName: 'hadoop-dist.tgz',
  versionLabel: 'org.apache.hadoop.version',
  resolve: resolveHadoopDist,
}

/** The default tag for a Hadoop version: cms/hadoop:3.4.3. */
export function defaultHadoopImageTag(hadoopVersion: string | undefined): string {
  return defaultImageTag('cms/hadoop', HADOOP_IMAGE.what, hadoopVersion, HADOOP_IMAGE.example)
}

export function hadoopImageDir(): string {
  return imageDir(HADOOP_IMAGE.folder)
}

/** Builds (or finds already built) the Hadoop image for the runtime `distSource` (checked: checkHadoopDistSource). */
export async function buildHadoopImage(req: RuntimeImageRequest): Promise<Omit<ImageBuildReport, 'image'>> {
  const {version, ...built} = await buildRuntimeImage(HADOOP_IMAGE, req)
  return {...built, hadoopVersion: version}
}
