import {hasLocalKey, localKeyFile, makeLocalKey, readLocalPublicKey} from '../cluster-key.js'
import {OpenStackError, type OpenStackApi} from './client.js'

/** Nova key pairs have no tags: the name says whose it is. Cluster names are short and DNS-safe, so this is too. */
export function keyPairName(cluster: string): string {
  return `cms-${cluster}`
}

export interface KeyPair {
  name: string
  public_key: string
}

export async function findKeyPair(api: OpenStackApi, cluster: string): Promise<KeyPair | undefined> {
  const out = await api.call<{keypair: KeyPair}>('compute', 'GET', `/os-keypairs/${keyPairName(cluster)}`, undefined, {allow404: true})
  return out?.keypair
}

/**
 * The cluster's key pair holds the public half of the key cms made here. One left by an earlier try whose private
 * half is not on this machine is replaced, but only while no server uses it.
 */
export async function ensureKeyPair(api: OpenStackApi, cluster: string, existing: KeyPair | undefined, liveServers: number, log: (line: string) => void): Promise<void> {
  const local = hasLocalKey(cluster)
  if (!local && liveServers > 0) {
    throw new OpenStackError(`cluster ${cluster} has ${liveServers} servers but its access key is not on this machine (${localKeyFile(cluster)}): run cms where the cluster was created, or kill it`)
  }
  if (local && existing) return
  if (!local) {
    if (existing) await deleteKeyPair(api, cluster)
    makeLocalKey(cluster)
  }
  await api.call('compute', 'POST', '/os-keypairs', {keypair: {name: keyPairName(cluster), public_key: readLocalPublicKey(cluster)}})
  log(`Imported key pair ${keyPairName(cluster)}; its private key is ${localKeyFile(cluster)}`)
}

export async function deleteKeyPair(api: OpenStackApi, cluster: string): Promise<void> {
  await api.call('compute', 'DELETE', `/os-keypairs/${keyPairName(cluster)}`, undefined, {allow404: true})
}
