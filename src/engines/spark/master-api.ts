import type {SshSession} from '../../remote/session.js'
import {httpViaSsh} from '../../remote/tunnel-http.js'
import {SPARK_PORTS} from './layout.js'

/** The parts of the Spark master's /json status this tool reads. */
export interface MasterStatus {
  url: string
  status: string
  aliveworkers: number
  cores: number
  coresused: number
  memory: number
  memoryused: number
  workers: Array<{
    id: string
    host: string
    port: number
    webuiaddress: string
    cores: number
    coresused: number
    memory: number
    memoryused: number
    state: string
    lastheartbeat: number
  }>
  activeapps: Array<{id: string; name: string; cores: number; state: string; starttime: number; duration: number; memoryperslave?: number; memoryperexecutor?: number}>
  completedapps: Array<{id: string; name: string; state: string; starttime: number; duration: number}>
  activedrivers?: Array<{id: string; state: string; worker?: string}>
}

export async function masterStatus(head: SshSession, headAddress: string): Promise<MasterStatus> {
  const {status, body} = await httpViaSsh(head, headAddress, SPARK_PORTS.masterUi, '/json/')
  if (status !== 200) throw new Error(`the Spark master at ${headAddress}:${SPARK_PORTS.masterUi} answered HTTP ${status}`)
  return JSON.parse(body) as MasterStatus
}

export function aliveWorkerHosts(status: MasterStatus): Set<string> {
  return new Set(status.workers.filter((w) => w.state === 'ALIVE').map((w) => w.host))
}
