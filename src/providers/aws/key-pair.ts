import {DeleteKeyPairCommand, DescribeKeyPairsCommand, type DescribeKeyPairsCommandOutput, ImportKeyPairCommand, type KeyPairInfo} from '@aws-sdk/client-ec2'
import {hasLocalKey, localKeyFile, makeLocalKey, readLocalPublicKey} from '../cluster-key.js'
import {AwsError, type Ec2Api} from './client.js'
import {keyPairName} from './names.js'
import {clusterResourceTags, resourceFilters, tagSpecification} from './tags.js'

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
