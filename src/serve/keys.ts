import {createHash, randomBytes} from 'node:crypto'
import {UsageError} from '../remote/errors.js'

export const SCOPES = ['read', 'submit', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

export const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** Keys carry their kind in a prefix, so a leaked one is easy to find in logs and code scanners. */
const KEY_PREFIX = 'cms_'

/** read < submit < admin: a scope grants the ones below it. */
export function grants(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need)
}

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s)
}

export function checkKeyName(name: string): string {
  if (!KEY_NAME_RE.test(name)) throw new UsageError(`invalid key name ${JSON.stringify(name)}: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`)
  return name
}

export function checkScope(scope: string): Scope {
  if (!isScope(scope)) throw new UsageError(`invalid scope ${JSON.stringify(scope)}: expected read, submit or admin`)
  return scope
}

/** A new key (256 random bits): shown once; only its hash is stored. */
export function newKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`
}

/** Keys are long random strings, so one unsalted SHA-256 is enough to store them (and to look them up by hash). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** The key in an `Authorization: Bearer KEY` header, or undefined. */
export function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m?.[1]
}
