import type {FastifyReply, FastifyRequest} from 'fastify'
import {bearerKey, grants, hashKey, isScope, type Scope} from '../keys.js'
import type {TaskStore} from '../store/store.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key's name: the actor of every change this request makes. */
    actor?: string
    scope?: Scope
  }
  interface FastifyContextConfig {
    /** The scope a route needs; `public` routes need no key (/health only). */
    scope?: Scope | 'public'
    /** A dashboard route: a session cookie instead of a key, and the scope it needs ('none': the login page). */
    ui?: Scope | 'none'
  }
}

/**
 * Every request but a public route's needs an API key with the route's scope: 401 without a valid one, 403 when its
 * scope is too small. Keys are looked up by their hash; the key itself is never logged.
 */
export function authHook(store: TaskStore) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // A path with no route needs only a valid key, to learn that it does not exist.
    const need = req.routeOptions.config?.scope ?? (req.routeOptions.url === undefined ? 'read' : 'admin')
    if (need === 'public' || req.routeOptions.config?.ui !== undefined) return
    const key = bearerKey(req.headers.authorization)
    if (!key) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({error: 'missing API key: send the header Authorization: Bearer KEY'})
      return
    }
    const row = await store.keyByHash(hashKey(key))
    if (!row || row.revoked_at !== null || !isScope(row.scope)) {
      await reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({error: 'invalid or revoked API key'})
      return
    }
    if (!grants(row.scope, need)) {
      await reply.code(403).send({error: `key ${row.name} has scope ${row.scope}; ${req.method} ${req.routeOptions.url ?? req.url} needs ${need}`})
      return
    }
    req.actor = row.name
    req.scope = row.scope
  }
}
