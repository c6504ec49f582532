import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {DeleteKeyPairCommand, DescribeKeyPairsCommand, type DescribeKeyPairsCommandOutput, ImportKeyPairCommand, type KeyPairInfo} from '@aws-sdk/client-ec2'
import {localPaths} from '../../config/paths.js'
import {generateEd25519} from '../ssh-keys.js'
import {AwsError, type Ec2Api} from './client.js'
import {keyPairName} from './names.js'
import {clusterResourceTags, resourceFilters, tagSpecification} from './tags.js'

/** The cluster's SSH key on this machine: ~/.cms/keys/NAME (0600) and NAME.pub, as for docker clusters. */
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

export async function findKeyPairs(api: Ec2Api, cluster: string): Promise<KeyPairInfo[]> {
  const out = await api.send<DescribeKeyPairsCommandOutput>(new DescribeKeyPairsCommand({Filters: resourceFilters(cluster)}))
  return out.KeyPairs ?? []
}

/**
 * The cluster's EC2 key pair holds the public half of the key cms made here. A key pair left by an earlier try
 * whose private half is not on this machine is replaced, but only while no instance uses it.
 */
export async function ensureKeyPair(
  api: Ec2Api,
  cluster: string,
  existing: KeyPairInfo[],
  liveInstances: number,
  log: (line: string) => void,
): Promise<void> {
  const local = hasLocalKey(cluster)
  if (!local && liveInstances > 0) {
    throw new AwsError(
      `cluster ${cluster} has ${liveInstances} instances but its access key is not on this machine (${localKeyFile(cluster)}): run cms where the cluster was created, or kill it`,
    )
  }
  if (local && existing.length > 0) return
  if (!local) {
    for (const pair of existing) await deleteKeyPair(api, pair)
    makeLocalKey(cluster)
  }
  const publicKey = readLocalPublicKey(cluster)
  const made = await api.send<{KeyPairId?: string}>(
    new ImportKeyPairCommand({
      KeyName: keyPairName(cluster),
      PublicKeyMaterial: Buffer.from(publicKey),
      TagSpecifications: [tagSpecification('key-pair', clusterResourceTags(cluster))],
    }),
  )
  log(`Imported key pair ${keyPairName(cluster)} (${made.KeyPairId}); its private key is ${localKeyFile(cluster)}`)
}

/** By name (unique in a region; the emulator deletes by name only). */
export async function deleteKeyPair(api: Ec2Api, pair: KeyPairInfo): Promise<void> {
  await api.send(new DeleteKeyPairCommand(pair.KeyName ? {KeyName: pair.KeyName} : {KeyPairId: pair.KeyPairId}))
}
