import {request} from 'node:http'

/**
 * Read-only Docker Engine API calls over the local socket. `cluster list` and `info` only need to read labels;
 * loading dockerode for that costs ~0.4 s of start-up, so the mutating calls alone use it (docker.ts).
 */
export function dockerSocketPath(): string {
  const host = process.env.DOCKER_HOST
  if (host && host.startsWith('unix://')) return host.slice('unix://'.length)
  return '/var/run/docker.sock'
}

export class DockerUnavailableError extends Error {}

export function dockerGet<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath: dockerSocketPath(), path, method: 'GET', timeout: 15_000}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        if ((res.statusCode ?? 500) >= 300) {
          reject(new Error(`docker API ${path}: ${res.statusCode} ${body.trim()}`))
          return
        }
        resolve(JSON.parse(body) as T)
      })
    })
    req.on('timeout', () => req.destroy(new Error(`docker API ${path}: timed out`)))
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'EACCES') {
        reject(new DockerUnavailableError(`cannot reach the Docker engine at ${dockerSocketPath()} (${error.code}); is dockerd running? (scripts/testbed.sh starts one)`))
      } else reject(error)
    })
    req.end()
  })
}

export interface ContainerSummary {
  Id: string
  Names: string[]
  State: string
  Labels: Record<string, string>
  NetworkSettings?: {Networks?: Record<string, {IPAddress?: string}>}
}

export function listContainers(labelFilters: string[]): Promise<ContainerSummary[]> {
  const filters = encodeURIComponent(JSON.stringify({label: labelFilters}))
  return dockerGet<ContainerSummary[]>(`/containers/json?all=true&filters=${filters}`)
}

/** The Docker engine's machine: what every container on it shares. */
export async function engineInfo(): Promise<{MemTotal: number; NCPU: number}> {
  return dockerGet<{MemTotal: number; NCPU: number}>('/info')
}
