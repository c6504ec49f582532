import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'
import {UsageError} from '../../remote/errors.js'

/** How cms proves who it is to Keystone v3: a user's password, or an application credential. */
export type OpenStackAuth =
  | {
      kind: 'password'
      authUrl: string
      userName?: string
      userId?: string
      userDomainName?: string
      userDomainId?: string
      password: string
      projectName?: string
      projectId?: string
      projectDomainName?: string
      projectDomainId?: string
    }
  | {
      kind: 'application_credential'
      authUrl: string
      id?: string
      name?: string
      userName?: string
      userId?: string
      userDomainName?: string
      userDomainId?: string
      secret: string
    }

export interface OpenStackSettings {
  /** The clouds.yaml entry the settings came from; undefined for the OS_* environment. */
  cloud?: string
  auth: OpenStackAuth
  region?: string
  /** Which endpoint of each catalog entry: public (the default), internal or admin. */
  interface: 'public' | 'internal' | 'admin'
  /** A CA bundle that signs the cloud's certificates (cacert, OS_CACERT); else the system's. */
  caFile?: string
}

/** What a cluster's access file records: the clouds.yaml entry it was created with. */
export interface OpenStackAccess {
  cloud?: string
}

type Env = Record<string, string | undefined>
type Entry = Record<string, unknown>

const CLOUD_NAME_RE = /^[A-Za-z0-9_.@:+-]{1,128}$/

/** Where clouds.yaml (and secure.yaml) are looked for, as the openstack cli does: the first that exists wins. */
export function cloudsFiles(env: Env, home = homedir(), cwd = process.cwd()): {clouds: string[]; secure: string[]} {
  const dirs = [cwd, join(home, '.config', 'openstack'), '/etc/openstack']
  return {
    clouds: env.OS_CLIENT_CONFIG_FILE ? [env.OS_CLIENT_CONFIG_FILE] : dirs.flatMap((d) => [join(d, 'clouds.yaml'), join(d, 'clouds.yml')]),
    secure: env.OS_CLIENT_SECURE_FILE ? [env.OS_CLIENT_SECURE_FILE] : dirs.flatMap((d) => [join(d, 'secure.yaml'), join(d, 'secure.yml')]),
  }
}

function readYaml(path: string): Entry {
  let doc: unknown
  try {
    doc = parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message.split('\n')[0]}`)
  }
  return doc !== null && typeof doc === 'object' ? (doc as Entry) : {}
}

/** secure.yaml's values over clouds.yaml's (nested objects merged key by key). */
export function mergeEntries(base: Entry, over: Entry): Entry {
  const out: Entry = {...base}
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? mergeEntries(b as Entry, v as Entry) : v
  }
  return out
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined)

/** Keystone v3 only: an auth URL without a version gets /v3. */
export function identityUrl(authUrl: string, source: string): string {
  let url: URL
  try {
    url = new URL(authUrl)
  } catch {
    throw new UsageError(`invalid auth URL ${JSON.stringify(authUrl)} (${source}): expected https://keystone.example:5000/v3`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`invalid auth URL ${JSON.stringify(authUrl)} (${source}): expected http(s)://`)
  if (url.username || url.password) throw new UsageError(`invalid auth URL (${source}): credentials do not belong in the URL`)
  const path = url.pathname.replace(/\/+$/, '')
  if (/\/v2(\.0)?$/.test(path)) throw new UsageError(`the auth URL ${authUrl} (${source}) is Keystone v2: cms speaks Keystone v3 only`)
  return `${url.origin}${/\/v3$/.test(path) ? path : `${path}/v3`}`
}

/** One set of auth values (a clouds.yaml `auth:` block, or the OS_* environment) as cms's auth; `source` names it in errors. */
export function authFrom(values: Entry, authType: string | undefined, source: string): OpenStackAuth {
  const authUrl = str(values.auth_url)
  if (!authUrl) throw new UsageError(`no auth URL in ${source}: set auth_url (OS_AUTH_URL)`)
  const url = identityUrl(authUrl, source)
  const user = {
    userName: str(values.username) ?? str(values.user_name),
    userId: str(values.user_id),
    userDomainName: str(values.user_domain_name) ?? str(values.domain_name),
    userDomainId: str(values.user_domain_id) ?? str(values.domain_id),
  }
  const type = (authType ?? 'password').replace(/^v3/, '')
  if (type === 'applicationcredential' || type === 'application_credential') {
    const secret = str(values.application_credential_secret)
    const id = str(values.application_credential_id)
    const name = str(values.application_credential_name)
    if (!secret || (!id && !name)) throw new UsageError(`incomplete application credential in ${source}: set application_credential_id (or _name) and application_credential_secret`)
    if (!id && !user.userName && !user.userId) throw new UsageError(`an application credential named by name needs its user in ${source}: set username or user_id`)
    return {kind: 'application_credential', authUrl: url, id, name, secret, ...user}
  }
  if (type !== 'password') throw new UsageError(`auth type ${JSON.stringify(authType)} in ${source} is not supported: cms takes password and v3applicationcredential`)
  const password = str(values.password)
  if (!password) throw new UsageError(`no password in ${source}: set password (OS_PASSWORD) or use an application credential`)
  if (!user.userName && !user.userId) throw new UsageError(`no user in ${source}: set username (OS_USERNAME) or user_id`)
  const projectName = str(values.project_name) ?? str(values.tenant_name)
  const projectId = str(values.project_id) ?? str(values.tenant_id)
  if (!projectName && !projectId) throw new UsageError(`no project in ${source}: set project_name (OS_PROJECT_NAME) or project_id`)
  return {
    kind: 'password',
    authUrl: url,
    ...user,
    password,
    projectName,
    projectId,
    projectDomainName: str(values.project_domain_name) ?? str(values.domain_name),
    projectDomainId: str(values.project_domain_id) ?? str(values.domain_id),
  }
}

function checkInterface(value: string | undefined, source: string): OpenStackSettings['interface'] {
  const v = (value ?? 'public').replace(/URL$/, '')
  if (v === 'public' || v === 'internal' || v === 'admin') return v
  throw new UsageError(`invalid interface ${JSON.stringify(value)} (${source}): expected public, internal or admin`)
}

/** The OS_* variables as an `auth:` block (the names the openstack cli reads). */
function envAuth(env: Env): Entry {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '')
  return {
    auth_url: pick('OS_AUTH_URL'),
    username: pick('OS_USERNAME'),
    user_id: pick('OS_USER_ID'),
    user_domain_name: pick('OS_USER_DOMAIN_NAME'),
    user_domain_id: pick('OS_USER_DOMAIN_ID'),
    domain_name: pick('OS_DOMAIN_NAME'),
    domain_id: pick('OS_DOMAIN_ID'),
    password: pick('OS_PASSWORD'),
    project_name: pick('OS_PROJECT_NAME', 'OS_TENANT_NAME'),
    project_id: pick('OS_PROJECT_ID', 'OS_TENANT_ID'),
    project_domain_name: pick('OS_PROJECT_DOMAIN_NAME'),
    project_domain_id: pick('OS_PROJECT_DOMAIN_ID'),
    application_credential_id: pick('OS_APPLICATION_CREDENTIAL_ID'),
    application_credential_name: pick('OS_APPLICATION_CREDENTIAL_NAME'),
    application_credential_secret: pick('OS_APPLICATION_CREDENTIAL_SECRET'),
  }
}

/** The cloud named on the command line, in the cluster's access file, or OS_CLOUD. */
export function cloudName(flag: string | undefined, recorded: OpenStackAccess | undefined, env: Env): string | undefined {
  const name = flag || recorded?.cloud || env.OS_CLOUD || undefined
  if (name !== undefined && !CLOUD_NAME_RE.test(name)) throw new UsageError(`invalid cloud name ${JSON.stringify(name)}`)
  return name
}

/** Credentials are configured here: a cloud is named, or OS_AUTH_URL is set. Listing asks nothing otherwise. */
export function openstackConfigured(flag: string | undefined, env: Env = process.env): boolean {
  return Boolean(flag || env.OS_CLOUD || env.OS_AUTH_URL)
}

/**
 * Settings as the openstack cli finds them: a cloud named by --os-cloud, the cluster's access file or OS_CLOUD, from
 * the first clouds.yaml found (OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack/, /etc/openstack/) with secure.yaml
 * merged in; else the OS_* environment. Undefined when neither names any cloud. Checked here, before anything is asked.
 */
export function findOpenStackSettings(flag: string | undefined, recorded?: OpenStackAccess, env: Env = process.env, home = homedir()): OpenStackSettings | undefined {
  const cloud = cloudName(flag, recorded, env)
  if (cloud === undefined) {
    if (!env.OS_AUTH_URL) return undefined
    const source = 'the OS_* environment'
    if (env.OS_INSECURE && /^(1|true|yes)$/i.test(env.OS_INSECURE)) throw new UsageError('OS_INSECURE is set: cms never turns off TLS verification (set OS_CACERT to the CA that signs the cloud\'s certificate)')
    return {
      auth: authFrom(envAuth(env), env.OS_AUTH_TYPE, source),
      region: env.OS_REGION_NAME || undefined,
      interface: checkInterface(env.OS_INTERFACE || env.OS_ENDPOINT_TYPE, source),
      caFile: env.OS_CACERT || undefined,
    }
  }
  const files = cloudsFiles(env, home)
  const file = files.clouds.find((f) => existsSync(f))
  if (!file) throw new UsageError(`cloud ${cloud}: no clouds.yaml found (looked at ${files.clouds.filter((f) => !f.endsWith('.yml')).join(', ')})`)
  const clouds = (readYaml(file).clouds ?? {}) as Record<string, Entry>
  let entry = clouds[cloud]
  if (!entry || typeof entry !== 'object') throw new UsageError(`cloud ${cloud} is not in ${file} (it has ${Object.keys(clouds).join(', ') || 'no clouds'})`)
  const secureFile = files.secure.find((f) => existsSync(f))
  const secure = secureFile ? ((readYaml(secureFile).clouds ?? {}) as Record<string, Entry>)[cloud] : undefined
  if (secure && typeof secure === 'object') entry = mergeEntries(entry, secure)
  const source = `cloud ${cloud} of ${file}`
  if (entry.verify === false || entry.insecure === true) throw new UsageError(`${source} turns TLS verification off: cms never does (set cacert to the CA that signs the cloud's certificate)`)
  return {
    cloud,
    auth: authFrom((entry.auth ?? {}) as Entry, str(entry.auth_type), source),
    region: str(entry.region_name) ?? (Array.isArray(entry.regions) ? str(entry.regions[0]) : undefined),
    interface: checkInterface(str(entry.interface) ?? str(entry.endpoint_type), source),
    caFile: str(entry.cacert),
  }
}

export function requireOpenStackSettings(flag: string | undefined, recorded?: OpenStackAccess, env: Env = process.env): OpenStackSettings {
  const settings = findOpenStackSettings(flag, recorded, env)
  if (!settings) throw new UsageError('no OpenStack credentials: pass --os-cloud (a cloud of clouds.yaml), set OS_CLOUD, or source an openrc (OS_AUTH_URL, ...)')
  return settings
}

/** Who the settings authenticate as, for messages (never a secret). */
export function describeCredentials(settings: OpenStackSettings): string {
  const a = settings.auth
  const who = a.kind === 'password' ? `user ${a.userName ?? a.userId}` : `application credential ${a.name ?? a.id}`
  return `${settings.cloud ? `cloud ${settings.cloud}, ` : ''}${who} at ${a.authUrl}`
}
