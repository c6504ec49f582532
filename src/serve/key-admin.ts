import {UsageError} from '../remote/errors.js'
import {checkKeyName, checkScope, hashKey, newKey, type Scope} from './keys.js'
import {migrate} from './store/migrate.js'
import {openDb} from './store/db.js'
import {TaskStore, type KeyRow} from './store/store.js'

/** `cms serve keys ...`: the service's database opened (and migrated) directly, as a server opens it. */
async function withStore<T>(db: string, fn: (store: TaskStore) => Promise<T>): Promise<T> {
  const opened = await openDb(db)
  try {
    await migrate(opened)
    return await fn(new TaskStore(opened))
  } finally {
    await opened.close()
  }
}

export interface KeyView {
  name: string
  scope: string
  createdAt: string
  revokedAt?: string
}

export const keyView = (k: KeyRow): KeyView => ({name: k.name, scope: k.scope, createdAt: new Date(k.created_at).toISOString(), ...(k.revoked_at ? {revokedAt: new Date(k.revoked_at).toISOString()} : {})})

/** A new key: its secret is returned here once and stored only as a hash. */
export async function createKey(db: string, name: string, scope: string): Promise<{name: string; scope: Scope; key: string}> {
  return withStore(db, (store) => createKeyIn(store, name, scope))
}

/** A new key in an open store (the dashboard's Keys page). */
export async function createKeyIn(store: TaskStore, name: string, scope: string): Promise<{name: string; scope: Scope; key: string}> {
  checkKeyName(name)
  const s = checkScope(scope)
  const key = newKey()
  if (!(await store.createKey({name, scope: s, hash: hashKey(key), created_at: Date.now()}))) {
    throw new UsageError(`a key named ${name} exists already (names of revoked keys stay taken, so the audit trail names one key): choose another name`)
  }
  return {name, scope: s, key}
}

export async function listKeys(db: string): Promise<{keys: KeyView[]}> {
  return {keys: (await withStore(db, (store) => store.listKeys())).map(keyView)}
}

export async function revokeKey(db: string, name: string): Promise<{name: string; revoked: true}> {
  checkKeyName(name)
  if (!(await withStore(db, (store) => store.revokeKey(name)))) throw new UsageError(`no active key named ${name} (see 'cms serve keys list')`)
  return {name, revoked: true}
}
