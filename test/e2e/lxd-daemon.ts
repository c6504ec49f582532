import {request} from 'node:http'
import {instanceTypesOf, type LxdServerInfo} from '../../src/providers/lxd/vm-support.js'

/** The tests' LXD daemon (scripts/lxd.sh), asked over its unix socket without cms's client. */
export function lxdSocket(): string {
  const socket = process.env.CMS_LXD_SOCKET
  if (!socket) throw new Error('CMS_LXD_SOCKET is not set: run eval "$(bash scripts/lxd.sh)" first')
  return socket
}

function call<T>(method: string, path: string, body?: unknown): Promise<{status: number; json: {type: string; operation?: string; metadata: T; error?: string}}> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath: lxdSocket(), path, method, timeout: 60_000, headers: body ? {'content-type': 'application/json'} : {}}, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, json: JSON.parse(text)}))
    })
    req.on('timeout', () => req.destroy(new Error(`LXD ${method} ${path}: timed out`)))
    req.on('error', reject)
    req.end(body ? JSON.stringify(body) : undefined)
  })
}

/** The instance types the daemon says it runs here (GET /1.0: instance_types, or LXD 5.0's operational drivers). */
export async function daemonInstanceTypes(): Promise<string[]> {
  const {json} = await call<LxdServerInfo>('GET', '/1.0')
  return instanceTypesOf(json.metadata)
}

export interface TestInstance {
  name: string
  type: string
  status: string
  created_at: string
  config: Record<string, string>
  devices?: Record<string, Record<string, string>>
  state: {network?: Record<string, {addresses: Array<{family: string; address: string; scope: string}>}>}
}

/** Every instance on the daemon whose user.cms.cluster is `cluster` (read in full, filtered here). */
export async function clusterInstances(cluster: string): Promise<TestInstance[]> {
  const {json} = await call<TestInstance[]>('GET', '/1.0/instances?recursion=2')
  return json.metadata.filter((i) => i.config['user.cms.cluster'] === cluster).sort((a, b) => Number(a.config['user.cms.index']) - Number(b.config['user.cms.index']))
}

/** The instance's address on eth0, LXD's NIC (a Kubernetes node also has one on its pod bridge), else on another NIC. */
export function addressOf(i: TestInstance): string {
  const nics = Object.entries(i.state.network ?? {}).sort(([a], [b]) => Number(b === 'eth0') - Number(a === 'eth0'))
  for (const [name, nic] of nics) {
    const inet = name === 'lo' ? undefined : nic.addresses.find((a) => a.family === 'inet' && a.scope === 'global')
    if (inet) return inet.address
  }
  return ''
}

/** Leaves nothing of a test's cluster on the daemon if a case failed half-way (force-stop, delete). */
export async function deleteClusterInstances(cluster: string): Promise<void> {
  for (const i of await clusterInstances(cluster)) {
    const wait = async (r: {json: {operation?: string}}) => {
      if (r.json.operation) await call('GET', `${r.json.operation}/wait?timeout=60`)
    }
    await wait(await call('PUT', `/1.0/instances/${i.name}/state`, {action: 'stop', force: true}))
    await wait(await call('DELETE', `/1.0/instances/${i.name}`))
  }
}

/** A file inside an instance, read through LXD's file API (as the instance's root). */
export function instanceFile(instance: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath: lxdSocket(), path: `/1.0/instances/${instance}/files?path=${encodeURIComponent(path)}`, timeout: 30_000}, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`LXD file ${instance}:${path}: HTTP ${res.statusCode} ${text}`))))
    })
    req.on('timeout', () => req.destroy(new Error(`LXD file ${instance}:${path}: timed out`)))
    req.on('error', reject)
    req.end()
  })
}
