import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {localPaths} from '../config/paths.js'
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
