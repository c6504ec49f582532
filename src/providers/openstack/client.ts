import {readFileSync} from 'node:fs'
import {Agent, request} from 'undici'
import {UsageError} from '../../remote/errors.js'
import {describeCredentials, type OpenStackAuth, type OpenStackSettings} from './settings.js'

/** An OpenStack failure cms can name in one line (an API refused a call, a service is unreachable): exit 1. */
export class OpenStackError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = 'OpenStackError'
  }
}

/** What the user gave is wrong (refused credentials, an unknown flavor, image or network): exit 2. */
export class OpenStackInputError extends UsageError {}

export interface CatalogEntry {
  type: string
  name?: string
  endpoints: Array<{interface: string; region?: string; region_id?: string; url: string}>
}

export type ServiceType = 'compute' | 'network' | 'image'

/** The catalog's URL for a service type, interface and region; the path each API is called under (its version). */
export function endpointFor(catalog: CatalogEntry[], type: ServiceType, iface: string, region?: string): string | undefined {
  const entry = catalog.find((c) => c.type === type)
  const endpoint = entry?.endpoints.find((e) => e.interface === iface && (!region || e.region_id === region || e.region === region))
  if (!endpoint) return undefined
  const url = endpoint.url.replace(/\/+$/, '')
  if (type === 'network') return /\/v2\.0$/.test(url) ? url : `${url}/v2.0`
  if (type === 'image') return /\/v2$/.test(url) ? url : `${url}/v2`
  return url
}

/** Keystone v3's `POST /auth/tokens` body (application credentials carry their own scope). */
export function tokenRequest(auth: OpenStackAuth): unknown {
  const domain = (name?: string, id?: string) => (id ? {id} : name ? {name} : {name: 'Default'})
  const user = (a: {userId?: string; userName?: string; userDomainName?: string; userDomainId?: string}) =>
    a.userId ? {id: a.userId} : {name: a.userName, domain: domain(a.userDomainName, a.userDomainId)}
  if (auth.kind === 'application_credential') {
    const credential = auth.id ? {id: auth.id, secret: auth.secret} : {name: auth.name, secret: auth.secret, user: user(auth)}
    return {auth: {identity: {methods: ['application_credential'], application_credential: credential}}}
  }
  const project = auth.projectId ? {id: auth.projectId} : {name: auth.projectName, domain: domain(auth.projectDomainName, auth.projectDomainId)}
  return {auth: {identity: {methods: ['password'], password: {user: {...user(auth), password: auth.password}}}, scope: {project}}}
}

/** Nova's microversion: server tags (2.26 filters, 2.52 at boot), still offered by every cloud since 2018 (Queens). */
const COMPUTE_VERSION = '2.52'
const REQUEST_TIMEOUT_MS = 60_000

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim()
}

/** The one-line message of an OpenStack error body (each service nests it differently). */
export function errorMessage(body: string): string {
  try {
    const doc = JSON.parse(body) as Record<string, unknown>
    const inner = Object.values(doc).find((v) => v && typeof v === 'object') as {message?: string} | undefined
    const msg = (doc as {message?: string; NeutronError?: {message?: string}; error?: {message?: string}}).NeutronError?.message ?? inner?.message ?? (doc as {message?: string}).message
    if (msg) return firstLine(String(msg))
  } catch {
    // not JSON: the first line of the text
  }
  return firstLine(body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ')).slice(0, 200)
}

/**
 * One OpenStack session per command run: a Keystone v3 token for the settings' credentials, and every endpoint from
 * the token's service catalog (none is configured by hand). Plain REST over undici; TLS verified (the system's CAs or
 * the cloud's cacert).
 */
export class OpenStackApi {
  private token?: {id: string; catalog: CatalogEntry[]; projectId?: string}
  private readonly agent: Agent

  constructor(
    readonly settings: OpenStackSettings,
    private readonly timeouts: {connectTimeoutMs?: number; requestTimeoutMs?: number} = {},
  ) {
    const ca = settings.caFile ? readFileSync(settings.caFile, 'utf8') : undefined
    this.agent = new Agent({connect: {timeout: timeouts.connectTimeoutMs ?? 10_000, ...(ca ? {ca} : {})}})
  }

  private async send(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<{status: number; headers: Record<string, unknown>; text: string}> {
    const timeout = this.timeouts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
    let res
    try {
      res = await request(url, {
        method: method as 'GET',
        dispatcher: this.agent,
        headers: {accept: 'application/json', ...(body === undefined ? {} : {'content-type': 'application/json'}), ...headers},
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      })
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      throw new OpenStackError(`cannot reach ${new URL(url).origin} (${e.code ?? e.message})`)
    }
    return {status: res.statusCode, headers: res.headers as Record<string, unknown>, text: await res.body.text()}
  }

  /** Authenticates once; a refused credential is the user's to fix (exit 2). */
  async authenticate(): Promise<{catalog: CatalogEntry[]; projectId?: string}> {
    if (this.token) return this.token
    const url = `${this.settings.auth.authUrl}/auth/tokens`
    const res = await this.send('POST', url, {}, tokenRequest(this.settings.auth))
    if (res.status === 401 || res.status === 403 || res.status === 404) {
      throw new OpenStackInputError(`Keystone refused the credentials of ${describeCredentials(this.settings)} (HTTP ${res.status}: ${errorMessage(res.text)})`)
    }
    const id = res.headers['x-subject-token']
    if (res.status !== 201 || typeof id !== 'string') throw new OpenStackError(`Keystone at ${url}: HTTP ${res.status}: ${errorMessage(res.text)}`, res.status)
    const doc = JSON.parse(res.text) as {token: {catalog?: CatalogEntry[]; project?: {id: string}}}
    this.token = {id, catalog: doc.token.catalog ?? [], projectId: doc.token.project?.id}
    return this.token
  }

  async endpoint(type: ServiceType): Promise<string> {
    const {catalog} = await this.authenticate()
    const url = endpointFor(catalog, type, this.settings.interface, this.settings.region)
    if (!url) throw new OpenStackError(`the service catalog of ${describeCredentials(this.settings)} has no ${this.settings.interface} ${type} endpoint${this.settings.region ? ` in region ${this.settings.region}` : ''}`)
    return url
  }

  /** One call to a service, by path under its catalog URL; JSON in and out. A 404 is undefined when `allow404`. */
  async call<T>(type: ServiceType, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, opts: {allow404?: boolean} = {}): Promise<T | undefined> {
    const base = await this.endpoint(type)
    const headers = (): Record<string, string> => ({'x-auth-token': this.token!.id, ...(type === 'compute' ? {'openstack-api-version': `compute ${COMPUTE_VERSION}`} : {})})
    let res = await this.send(method, `${base}${path}`, headers(), body)
    if (res.status === 401) {
      // The token expired during a long command (Keystone's default lifetime is an hour): one new token, one retry.
      this.token = undefined
      await this.authenticate()
      res = await this.send(method, `${base}${path}`, headers(), body)
    }
    if (res.status === 404 && opts.allow404) return undefined
    if (res.status >= 400) {
      const what = `${type === 'compute' ? 'Nova' : type === 'network' ? 'Neutron' : 'Glance'} ${method} ${path.split('?')[0]}`
      throw new OpenStackError(`${what}: HTTP ${res.status}: ${errorMessage(res.text)}`, res.status)
    }
    return res.text ? (JSON.parse(res.text) as T) : undefined
  }

  async get<T>(type: ServiceType, path: string): Promise<T> {
    return (await this.call<T>(type, 'GET', path))!
  }

  async close(): Promise<void> {
    await this.agent.close()
  }
}
