import ssh2 from 'ssh2'

/**
 * An ed25519 key pair in OpenSSH format. ssh2's generator now and then writes a private key that its own parser
 * (and so cms's later connections) rejects, about 1 in 256 (mscdex/ssh2 #1390): keep only keys that parse back.
 */
export function generateEd25519(comment: string): {private: string; public: string} {
  for (let attempt = 0; attempt < 16; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', {comment})
    const parsed = ssh2.utils.parseKey(pair.private)
    if (!(parsed instanceof Error) && !Array.isArray(parsed)) return pair
  }
  throw new Error('could not generate a usable ed25519 key')
}
