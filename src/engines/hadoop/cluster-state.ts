import type {SshSession} from '../../remote/session.js'
import {namenodeBean, rmRequest} from './daemon-api.js'
import type {HadoopState, NameNodeInfoBean, RmMetrics, RmNode} from './describe.js'

/** HDFS and YARN as the head's NameNode and ResourceManager report them now (four requests, in parallel). */
export async function readHadoopState(head: SshSession, headAddress: string): Promise<HadoopState> {
  const [namenode, info, nodes, metrics] = await Promise.all([
    namenodeBean<NameNodeInfoBean>(head, headAddress, 'Hadoop:service=NameNode,name=NameNodeInfo'),
    rmRequest<{clusterInfo?: {state?: string}}>(head, headAddress, '/ws/v1/cluster/info'),
    rmRequest<{nodes?: {node?: RmNode[]} | null}>(head, headAddress, '/ws/v1/cluster/nodes?states=NEW,RUNNING,UNHEALTHY,DECOMMISSIONING,DECOMMISSIONED,LOST,SHUTDOWN'),
    rmRequest<{clusterMetrics?: RmMetrics}>(head, headAddress, '/ws/v1/cluster/metrics'),
  ])
  if (!namenode) throw new Error(`the NameNode at ${headAddress} did not report its NameNodeInfo`)
  return {namenode, rmState: info.clusterInfo?.state ?? 'UNKNOWN', nodes: nodes.nodes?.node ?? [], metrics: metrics.clusterMetrics ?? {}}
}
