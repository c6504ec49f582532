import type {SshSession} from '../../remote/session.js'
import {httpViaSsh} from '../../remote/tunnel-http.js'
import {SPARK_PORTS} from './layout.js'

/**
 * Spark standalone's REST submission API (create / status / kill, cluster deploy mode). It has no
 * authentication and listens on the head's private address only: cms calls it through the head's SSH connection.
 */
export interface RestSubmitResponse {
  action: string
  submissionId?: string
  success?: boolean
  message?: string
  serverSparkVersion?: string
}

export interface RestStatusResponse {
  action: string
  submissionId: string
  driverState?: string
  success?: boolean
  workerHostPort?: string
  workerId?: string
  message?: string
}

async function call<T>(head: SshSession, headAddress: string, method: string, path: string, body?: object): Promise<T> {
  const res = await httpViaSsh(head, headAddress, SPARK_PORTS.rest, path, {method, body: body === undefined ? undefined : JSON.stringify(body)})
  let parsed: T & {message?: string}
  try {
    parsed = JSON.parse(res.body) as T & {message?: string}
  } catch {
    throw new Error(`the Spark REST server answered HTTP ${res.status} without JSON on ${path}`)
  }
  if (res.status >= 400 && res.status !== 404) throw new Error(`the Spark REST server refused ${path} (HTTP ${res.status}): ${parsed.message ?? res.body.slice(0, 200)}`)
  return parsed
}

export async function restCreate(head: SshSession, headAddress: string, request: object): Promise<string> {
  const r = await call<RestSubmitResponse>(head, headAddress, 'POST', '/v1/submissions/create', request)
  if (!r.success || !r.submissionId) throw new Error(`the Spark master did not accept the submission: ${r.message ?? 'no reason given'}`)
  return r.submissionId
}

export function restStatus(head: SshSession, headAddress: string, submissionId: string): Promise<RestStatusResponse> {
  return call<RestStatusResponse>(head, headAddress, 'GET', `/v1/submissions/status/${encodeURIComponent(submissionId)}`)
}

export async function restKill(head: SshSession, headAddress: string, submissionId: string): Promise<{success?: boolean; message?: string}> {
  return call(head, headAddress, 'POST', `/v1/submissions/kill/${encodeURIComponent(submissionId)}`)
}
