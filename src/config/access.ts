import {mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {localPaths} from './paths.js'
import type {ProviderName} from '../providers/provider.js'

/**
 * An access file says how to reach a cluster's head, like a kubeconfig entry. It holds no membership and no
 * status: deleting it loses no docker cluster (labels find it again), and an ssh cluster is found again by its head.
 */
export interface AccessEntry {
  name: string
  provider: ProviderName
  /** The engine the cluster runs (absent in files written before there was more than Spark). */
  engine?: string
  head: {host: string; port: number; user: string}
  identityFile?: string
  /** aws: the region (and profile, connect mode) the cluster was created with, so later commands need no flags. */
  aws?: {region: string; profile?: string; connect?: 'public' | 'private'}
  /** lxd: the daemon the cluster was last reached on (its socket, or a remote's address and certificate files). */
  lxd?: {socket?: string; remote?: string; clientCert?: string; clientKey?: string; serverCert?: string}
}

/** The access file of a cluster cms made; an attached cluster's (config/attached.ts) is not one. */
export function readAccess(cluster: string): AccessEntry | undefined {
  try {
    const entry = JSON.parse(readFileSync(localPaths.accessFile(cluster), 'utf8')) as AccessEntry | {provider: 'attached'}
    return entry.provider === 'attached' ? undefined : entry
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

export function writeAccess(entry: AccessEntry): void {
  writePrivateJson(localPaths.accessFile(entry.name), entry)
}

/** JSON in a file only its owner reads, in a folder only its owner opens. */
export function writePrivateJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), {recursive: true, mode: 0o700})
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n', {mode: 0o600})
}

export function deleteAccess(cluster: string): void {
  rmSync(localPaths.accessFile(cluster), {force: true})
}

export function listAccess(): AccessEntry[] {
  return accessFileNames()
    .map(readAccess)
    .filter((e): e is AccessEntry => e !== undefined)
}

/** The cluster names of every access file, of clusters cms made and attached ones alike. */
export function accessFileNames(): string[] {
  try {
    return readdirSync(localPaths.accessDir())
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
  } catch {
    return []
  }
}
