import {artifactFromSettings, artifactSettings, checkArtifactSource, resolveArtifact, type Artifact, type ArtifactKind} from '../artifact.js'

export const NOMAD_VERSION = '1.11.3'

export const NOMAD_DIST: ArtifactKind = {
  what: 'Nomad',
  flag: '--nomad-dist',
  envVar: 'CMS_NOMAD_DIST',
  // The official release archive: one static `nomad` binary in a zip.
  defaultUrl: `https://releases.hashicorp.com/nomad/${NOMAD_VERSION}/nomad_${NOMAD_VERSION}_linux_amd64.zip`,
  extensions: ['.zip', '.tgz', '.tar'],
}

export function checkNomadDistSource(spec: string | undefined): string {
  return checkArtifactSource(spec, NOMAD_DIST)
}

export function nomadVersionFromName(name: string): string | undefined {
  return /nomad[_-](\d+\.\d+\.\d+[\w.+-]*?)(?:_linux|\.zip|\.t)/.exec(name)?.[1]
}

export function resolveNomadDist(source: string, log: (line: string) => void): Promise<Artifact> {
  return resolveArtifact(source, NOMAD_DIST, {log, probe: 'nomad', version: nomadVersionFromName})
}

/** The Nomad archive a cluster runs, as recorded in its manifest: new hosts fetch it from the head. */
export function nomadDistFromSettings(settings: Record<string, string>): Artifact | undefined {
  return artifactFromSettings('nomad', settings, NOMAD_DIST, 'nomad')
}

export function nomadDistSettings(dist: Artifact): Record<string, string> {
  return artifactSettings('nomad', dist)
}
