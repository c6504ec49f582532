import {Agent, request, type RequestOptions} from 'node:https'

/**
 * How cms reaches and authenticates to an API server: a client-node KubeConfig satisfies it (certificates, tokens,
 * exec plugins), and so does certificateAccess() in client.ts, which needs no client-node (its import costs ~0.6 s).
 */
export interface KubeAccess {
  getCurrentCluster(): {server: string} | null
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>
}

/**
 * The Kubernetes API as raw JSON over HTTPS, authenticated by a KubeAccess. Not client-node's KubernetesObjectApi: its typed serializer silently drops fields its models do not know
 * (`spec.backofLimit: 3` would vanish instead of being refused by the API server), and cms applies the user's objects
 * exactly as written.
 */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    /** The API's own message (a metav1.Status message), or the body's first line. */
    readonly apiMessage: string,
    readonly reason: string | undefined,
    readonly details: {name?: string; kind?: string} | undefined,
    method: string,
    path: string,
  ) {
    super(`Kubernetes API ${method} ${path}: ${status} ${apiMessage}`)
    this.name = 'KubeApiError'
  }
}

export interface ApiResource {
  /** Plural resource name, e.g. jobs. */
  name: string
  kind: string
  namespaced: boolean
}

export interface RequestInput {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  contentType?: string
  timeoutMs?: number
  /** The answer is text (/readyz), not JSON: resolve with it as a string. */
  text?: boolean
}

const DEFAULT_TIMEOUT_MS = 30_000

export class KubeApi {
  private agent?: Agent
  private readonly discovery = new Map<string, Promise<ApiResource[]>>()
  private readonly server: URL

  constructor(private readonly kc: KubeAccess) {
    const cluster = kc.getCurrentCluster()
    if (!cluster) throw new Error('the kubeconfig has no current cluster')
    this.server = new URL(cluster.server)
  }

  private async options(method: string, path: string, input: RequestInput): Promise<RequestOptions> {
    const auth: RequestOptions = {headers: {}}
    await this.kc.applyToHTTPSOptions(auth)
    // One keep-alive agent with the kubeconfig's TLS material (applyToHTTPSOptions makes a new agent per call).
    this.agent ??= new Agent({keepAlive: true, maxSockets: 16, ca: auth.ca, cert: auth.cert, key: auth.key, rejectUnauthorized: auth.rejectUnauthorized, servername: auth.servername})
    const query = new URLSearchParams()
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined) query.set(k, String(v))
    const qs = query.toString()
    const headers: Record<string, string> = {Accept: 'application/json'}
    for (const [k, v] of Object.entries((auth.headers ?? {}) as Record<string, unknown>)) if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v)
    if (input.contentType) headers['Content-Type'] = input.contentType
    return {
      method,
      hostname: this.server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.server.port || 443,
      path: `${this.server.pathname.replace(/\/$/, '')}${path}${qs ? `?${qs}` : ''}`,
      headers,
      auth: auth.auth,
      agent: this.agent,
    }
  }

  /** One request; the JSON answer, or KubeApiError for a non-2xx status. */
  async request<T = Record<string, unknown>>(method: string, path: string, input: RequestInput = {}): Promise<T> {
    const options = await this.options(method, path, input)
    const payload = input.body === undefined ? undefined : JSON.stringify(input.body)
    return new Promise<T>((resolve, reject) => {
      const req = request(options, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const status = res.statusCode ?? 0
          let body: unknown
          try {
            body = text ? JSON.parse(text) : {}
          } catch {
            body = undefined
          }
          if (status >= 200 && status < 300) {
            if (input.text) resolve(text as T)
            else if (body === undefined) reject(new Error(`Kubernetes API ${method} ${path}: answer is not JSON`))
            else resolve(body as T)
            return
          }
          const s = (body ?? {}) as {message?: string; reason?: string; details?: {name?: string; kind?: string}}
          reject(new KubeApiError(status, s.message ?? (text.split('\n')[0] || `HTTP ${status}`), s.reason, s.details, method, path))
        })
      })
      const ms = input.timeoutMs ?? DEFAULT_TIMEOUT_MS
      req.setTimeout(ms, () => req.destroy(new Error(`Kubernetes API ${method} ${path}: no answer within ${ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`}`)))
      req.on('error', reject)
      req.end(payload)
    })
  }

  /**
   * A streamed GET (pod logs with follow): each chunk to `onData` until the server ends the stream or `signal` aborts.
   * Resolves when the stream ends (an abort ends it quietly); rejects with KubeApiError on a non-2xx answer.
   */
  async stream(path: string, query: RequestInput['query'], onData: (chunk: Buffer) => void, signal: AbortSignal): Promise<void> {
    const options = await this.options('GET', path, {query})
    options.headers = {...options.headers, Accept: '*/*'}
    // A long-lived stream gets its own connection: it must not hold one of the keep-alive sockets' slots forever.
    options.agent = new Agent({...this.agent!.options, keepAlive: false})
    if (signal.aborted) return
    return new Promise<void>((resolve, reject) => {
      const req = request({...options, signal}, (res) => {
        const status = res.statusCode ?? 0
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let message = text.split('\n')[0] ?? ''
            try {
              message = (JSON.parse(text) as {message?: string}).message ?? message
            } catch {
              // not a Status: the first line says it
            }
            reject(new KubeApiError(status, message, undefined, undefined, 'GET', path))
          })
          return
        }
        res.on('data', onData)
        res.on('end', () => resolve())
        res.on('close', () => resolve())
        res.on('error', (e) => (signal.aborted ? resolve() : reject(e)))
      })
      req.on('error', (e) => (signal.aborted ? resolve() : reject(e)))
      req.end()
    })
  }

  /** What the API serves for an apiVersion (discovery, cached per service). */
  private resources(apiVersion: string): Promise<ApiResource[]> {
    let found = this.discovery.get(apiVersion)
    if (!found) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
      found = this.request<{resources: ApiResource[]}>('GET', path)
        .then((r) => r.resources.filter((x) => !x.name.includes('/')))
        .catch((error) => {
          this.discovery.delete(apiVersion)
          if (error instanceof KubeApiError && error.status === 404) return []
          throw error
        })
      this.discovery.set(apiVersion, found)
    }
    return found
  }

  /** The resource of a kind, or undefined when the API does not serve that kind under that apiVersion. */
  async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    return (await this.resources(apiVersion)).find((r) => r.kind === kind)
  }

  /** The URL path of a resource collection (namespace given for a namespaced one) or of one object (with name). */
  static path(apiVersion: string, resource: ApiResource, namespace?: string, name?: string): string {
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
    const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''
    return `${base}${ns}/${resource.name}${name ? `/${encodeURIComponent(name)}` : ''}`
  }

  close(): void {
    this.agent?.destroy()
  }
}

/** The built-in kinds cms follows, known without discovery. */
export const JOBS: ApiResource = {name: 'jobs', kind: 'Job', namespaced: true}
export const PODS: ApiResource = {name: 'pods', kind: 'Pod', namespaced: true}
export const jobPath = (namespace?: string, name?: string) => KubeApi.path('batch/v1', JOBS, namespace, name)
export const podPath = (namespace?: string, name?: string) => KubeApi.path('v1', PODS, namespace, name)
