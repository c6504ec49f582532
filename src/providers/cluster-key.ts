import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {localPaths} from '../config/paths.js'
import type {KnownHosts} from '../remote/known-hosts.js'
import {generateEd25519} from './ssh-keys.js'

/** The cluster's SSH key on this machine: ~/.cms/keys/NAME (0600) and NAME.pub, for the clouds' clusters (aws, lxd), as for docker clusters. */
export function localKeyFile(cluster: string): string {
  return localPaths.keyFile(cluster)
}

export function hasLocalKey(cluster: string): boolean {
  return existsSync(localKeyFile(cluster)) && existsSync(`${localKeyFile(cluster)}.pub`)
}

export function readLocalPublicKey(cluster: string): string {
  return readFileSync(`${localKeyFile(cluster)}.pub`, 'utf8').trim()
}

/** Makes the cluster's key on this machine. The private half never leaves it. */
export function makeLocalKey(cluster: string): string {
  const file = localKeyFile(cluster)
  const pair = generateEd25519(`cms-${cluster}`)
  mkdirSync(dirname(file), {recursive: true, mode: 0o700})
  writeFileSync(file, pair.private, {mode: 0o600})
  writeFileSync(`${file}.pub`, `${pair.public}\n`, {mode: 0o644})
  return pair.public
}

export function removeLocalKey(cluster: string): void {
  rmSync(localKeyFile(cluster), {force: true})
  rmSync(`${localKeyFile(cluster)}.pub`, {force: true})
}

/** Why cms cannot log in to a cloud cluster's hosts from here: its key was made on another machine. */
export function missingKeyProblem(cluster: string): string | undefined {
  if (hasLocalKey(cluster)) return undefined
  return `cluster ${cluster}'s access key is not on this machine (${localKeyFile(cluster)}): cms can list and kill the cluster from here, but not log in to its hosts`
}

/** A host's public key as cms publishes it with the instance (a tag, a config key): `type base64`, no comment. */
export function publishedKeyLine(publicKey: string): string {
  return publicKey.trim().split(/\s+/).slice(0, 2).join(' ')
}

/**
 * Trusts, for a host's address, exactly the host key cms made for it and published with the instance (a tag, a
 * config key: `type base64`), so that the first connection already knows it. Nothing to trust without an address.
 */
export function trustPublishedHostKey(knownHosts: KnownHosts, address: string, publicLine: string | undefined): void {
  const [type, base64] = (publicLine ?? '').split(/\s+/)
  if (!address || !type || !base64) return
  const blob = Buffer.from(base64, 'base64')
  if (knownHosts.check(address, 22, type, blob).status !== 'match') knownHosts.replace(address, 22, type, blob)
}
