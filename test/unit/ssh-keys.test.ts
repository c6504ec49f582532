import ssh2 from 'ssh2'
import {describe, expect, it} from 'vitest'
import {generateEd25519} from '../../src/providers/ssh-keys.js'

describe('ed25519 key generation', () => {
  it('only hands out keys that parse back (ssh2 sometimes writes unreadable ones)', () => {
    for (let i = 0; i < 600; i++) {
      const pair = generateEd25519(`k${i}`)
      const parsed = ssh2.utils.parseKey(pair.private)
      expect(parsed instanceof Error, `key ${i}`).toBe(false)
      expect(pair.public.startsWith('ssh-ed25519 ')).toBe(true)
    }
  })
})
