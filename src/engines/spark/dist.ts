import {basename} from 'node:path'
import {archiveExt, checkArtifactSource, resolveArtifact, type Artifact, type ArtifactKind} from '../artifact.js'

/** Used when neither --spark-dist nor CMS_SPARK_DIST names a distribution. */
export const DEFAULT_SPARK_DIST_URL = 'https://archive.apache.org/dist/spark/spark-4.0.1/spark-4.0.1-bin-hadoop3.tgz'

export const SPARK_DIST: ArtifactKind = {
  what: 'Spark',
  flag: '--spark-dist',
  envVar: 'CMS_SPARK_DIST',
  defaultUrl: DEFAULT_SPARK_DIST_URL,
  extensions: ['.tgz', '.tar'],
}

/** Every Spark layout (Apache's, PyPI's) has it; SPARK_HOME is the folder above its bin/. */
export const SPARK_PROBE = 'bin/spark-class'

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
  return archiveExt(name, SPARK_DIST) as SparkDist['archiveExt']
}

export function versionFromName(name: string): string | undefined {
  return /spark-(\d+\.\d+\.\d+[\w.-]*?)(?:-bin|\.t)/.exec(basename(name))?.[1]
}

/** Validates the source before anything is created (bad input: exit 2, no side effect). */
export function checkSparkDistSource(spec: string | undefined): string {
  return checkArtifactSource(spec, SPARK_DIST)
}

/** Local path of the distribution: a file as given, or a URL downloaded once into the cache. */
export async function resolveSparkDist(source: string, log: (line: string) => void): Promise<SparkDist> {
  const {what: _what, probe: _probe, flag: _flag, ...dist} = await resolveArtifact(source, SPARK_DIST, {log, probe: SPARK_PROBE, version: versionFromName})
  return dist as SparkDist
}

export function sparkArtifact(dist: SparkDist): Artifact {
  return {...dist, what: 'Spark', probe: SPARK_PROBE, flag: SPARK_DIST.flag}
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
