import {readFileSync} from 'node:fs'
import {localPaths} from './paths.js'
import {accessFileNames, writePrivateJson} from './access.js'

/**
 * A cluster cms did not make (`cms cluster attach`): its access file says how to reach its engine's API with the
 * user's own credentials, and nothing else. There are no hosts to manage: `kill` and `remove` refuse it, `detach`
 * deletes the file. It lives beside the access files of the clusters cms made (one name space), 0600, because it
 * may hold a Nomad ACL token; a kubeconfig is named by its path, never copied.
 */
export const ATTACHED = 'attached'

export interface AttachedEntry {
  name: string
  provider: typeof ATTACHED
  engine: 'kubernetes' | 'nomad'
  kubernetes?: {kubeconfig: string; context?: string}
  nomad?: {address: string; token?: string; caCert?: string; clientCert?: string; clientKey?: string; tlsServerName?: string}
}

function parse(text: string): AttachedEntry | undefined {
  const entry = JSON.parse(text) as {provider?: string}
  return entry.provider === ATTACHED ? (entry as AttachedEntry) : undefined
}

export function readAttached(cluster: string): AttachedEntry | undefined {
  try {
    return parse(readFileSync(localPaths.accessFile(cluster), 'utf8'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

export function writeAttached(entry: AttachedEntry): void {
  writePrivateJson(localPaths.accessFile(entry.name), entry)
}

export function listAttached(): AttachedEntry[] {
  return accessFileNames()
    .map(readAttached)
    .filter((e): e is AttachedEntry => e !== undefined)
}
