import {artifactFromSettings, artifactSettings, checkArtifactSource, resolveArtifact, type Artifact, type ArtifactKind} from '../artifact.js'

/**
 * The Hadoop runtime cms ships: the archive scripts/hadoop-dist.sh assembles from Maven Central (Apache publishes no
 * tarball on a registry, and its own tarball's launchers are not the ones cms runs). Its bin/hadoop-daemon runs one
 * daemon in the foreground.
 */
export const HADOOP_DIST: ArtifactKind = {
  what: 'Hadoop',
  flag: '--hadoop-dist',
  envVar: 'CMS_HADOOP_DIST',
  noDefault: 'no Hadoop runtime: build one with `bash scripts/hadoop-dist.sh` (it prints CMS_HADOOP_DIST=...), then pass --hadoop-dist PATH or set CMS_HADOOP_DIST',
  extensions: ['.tgz', '.tar'],
}

export const HADOOP_PROBE = 'bin/hadoop-daemon'

export function checkHadoopDistSource(spec: string | undefined): string {
  return checkArtifactSource(spec, HADOOP_DIST)
}

export function hadoopVersionFromName(name: string): string | undefined {
  return /hadoop-(\d+\.\d+\.\d+)(?:-cms)?\.t/.exec(name)?.[1]
}

export function resolveHadoopDist(source: string, log: (line: string) => void): Promise<Artifact> {
  return resolveArtifact(source, HADOOP_DIST, {log, probe: HADOOP_PROBE, version: hadoopVersionFromName})
}

/** The runtime a cluster runs, as recorded in its manifest: new hosts fetch it from the head. */
export function hadoopDistFromSettings(settings: Record<string, string>): Artifact | undefined {
  return artifactFromSettings('hadoop', settings, HADOOP_DIST, HADOOP_PROBE)
}

export function hadoopDistSettings(dist: Artifact): Record<string, string> {
  return artifactSettings('hadoop', dist)
}
