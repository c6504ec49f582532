import type {SshSession} from '../remote/session.js'
import {shq} from '../remote/shell.js'
import type {Host, ProviderName} from '../providers/provider.js'

/**
 * The manifest cms writes on the head: which hosts it set up and how the engine is configured. It is the ssh
 * provider's membership record; the engine's own view (the Spark master's worker list) stays the truth for who
 * is actually in the cluster.
 */
export interface ClusterManifest {
  cluster: string
  provider: ProviderName
  engine: string
  updatedAt: string
  hosts: Array<{id: string; role: Host['role']; host: string; port: number; user: string; privateAddress?: string}>
  engineSettings: Record<string, string>
}

export function remoteClusterDir(home: string, cluster: string): string {
  return `${home}/.cms/clusters/${cluster}`
}

export function manifestPath(home: string, cluster: string): string {
  return `${remoteClusterDir(home, cluster)}/manifest.json`
}

export async function readManifest(head: SshSession, home: string, cluster: string): Promise<ClusterManifest | undefined> {
  const content = await head.readFile(manifestPath(home, cluster))
  if (!content) return undefined
  return JSON.parse(content.toString('utf8')) as ClusterManifest
}

export async function writeManifest(head: SshSession, home: string, manifest: ClusterManifest): Promise<void> {
  await head.run(`mkdir -p ${shq(remoteClusterDir(home, manifest.cluster))}`, {label: 'mkdir cluster dir'})
  await head.writeFile(manifestPath(home, manifest.cluster), JSON.stringify(manifest, null, 2) + '\n', 0o600)
}

export function manifestHosts(hosts: Host[]): ClusterManifest['hosts'] {
  return hosts.map((h) => ({
    id: h.id,
    role: h.role,
    host: h.target.host,
    port: h.target.port,
    user: h.target.user,
    privateAddress: h.privateAddress,
  }))
}
