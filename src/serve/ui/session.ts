import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import type {Db} from '../store/db.js'
import {grants, isScope, type Scope} from '../keys.js'

/** A dashboard login: the key it was made with (by name), its scope, and the CSRF token of its forms. */
export interface Session {
  keyName: string
  scope: Scope
  csrf: string
}

export const SESSION_COOKIE = 'cms_session'
/** A login lasts this long (ms). */
export const SESSION_MS = 12 * 3_600_000

const hash = (id: string) => createHash('sha256').update(id).digest('hex')

/**
 * Dashboard sessions in the service's database (so a restart or a second server behind the same PostgreSQL keeps
 * them). The cookie holds a random id; only its hash is stored. A session ends when it expires, on logout, or as
 * soon as its key is revoked (checked on every request).
 */
export class Sessions {
  constructor(private readonly db: Db) {}

  async create(keyName: string, now = Date.now()): Promise<{id: string; csrf: string}> {
    const id = randomBytes(32).toString('base64url')
    const csrf = randomBytes(32).toString('base64url')
    await this.db.run('DELETE FROM sessions WHERE expires_at < $1', [now])
    await this.db.run('INSERT INTO sessions (id_hash, key_name, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [hash(id), keyName, csrf, now, now + SESSION_MS])
    return {id, csrf}
  }

  async get(id: string | undefined, now = Date.now()): Promise<Session | undefined> {
    if (!id || id.length > 100) return undefined
    const [row] = await this.db.all<{key_name: string; csrf: string; scope: string; revoked_at: number | null}>(
      'SELECT s.key_name, s.csrf, k.scope, k.revoked_at FROM sessions s JOIN api_keys k ON k.name = s.key_name WHERE s.id_hash = $1 AND s.expires_at > $2',
      [hash(id), now],
    )
    if (!row || row.revoked_at !== null || !isScope(row.scope)) return undefined
    return {keyName: row.key_name, scope: row.scope, csrf: row.csrf}
  }

  async end(id: string | undefined): Promise<void> {
    if (id) await this.db.run('DELETE FROM sessions WHERE id_hash = $1', [hash(id)])
  }
}

/** The session may do what `need` asks. */
export function allows(session: Session | undefined, need: Scope): boolean {
  return session !== undefined && grants(session.scope, need)
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

/** The value of one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return undefined
}

/** The Set-Cookie value: HttpOnly, SameSite=Strict, Secure when served over TLS; empty `value` clears it. */
export function sessionCookie(value: string, secure: boolean): string {
  const attrs = [`${SESSION_COOKIE}=${value}`, 'Path=/ui', 'HttpOnly', 'SameSite=Strict', value ? `Max-Age=${SESSION_MS / 1000}` : 'Max-Age=0']
  if (secure) attrs.push('Secure')
  return attrs.join('; ')
}
