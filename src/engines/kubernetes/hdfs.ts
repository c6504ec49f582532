import type {V1Pod} from '@kubernetes/client-node'
import type {ClusterInfo} from '../../output/results.js'
import type {SshSession} from '../../remote/session.js'
import {waitFor} from '../coordination.js'
import {namenodeBean} from '../hadoop/daemon-api.js'
import {dataNodesByAddress, withHdfs, type NameNodeInfoBean} from '../hadoop/describe.js'
import type {ClusterApi} from './cluster-api.js'
import {HDFS_NAMESPACE, HDFS_ROLE_LABEL, namenodeHost, renderHdfsManifests, type HdfsManifestInput} from './hdfs-manifests.js'
import {nodeNameFor} from './names.js'

/**
 * HDFS on a cms Kubernetes cluster, through the API (its pods) and the NameNode's own /jmx, reached from the head
 * over SSH at the NameNode pod's address (the head routes the pod network).
 */

const NAMENODE_INFO = 'Hadoop:service=NameNode,name=NameNodeInfo'

/** Where HDFS's pods run: the NameNode's and each DataNode's address and node. */
export interface HdfsPods {
  namenode?: {ip: string; node: string}
  /** DataNode pods by node name. */
  datanodes: Map<string, {ip: string; node: string}>
}

function placed(p: V1Pod): {ip: string; node: string} | undefined {
  const ip = p.status?.podIP
  const node = p.spec?.nodeName
  return ip && node && !p.metadata?.deletionTimestamp ? {ip, node} : undefined
}

export async function hdfsPods(api: ClusterApi): Promise<HdfsPods> {
  const pods = await api.pods(HDFS_NAMESPACE, HDFS_ROLE_LABEL)
  const role = (p: V1Pod) => p.metadata?.labels?.[HDFS_ROLE_LABEL]
  const namenode = pods.filter((p) => role(p) === 'namenode').map(placed).find(Boolean)
  const datanodes = new Map<string, {ip: string; node: string}>()
  for (const p of pods.filter((p) => role(p) === 'datanode')) {
    const at = placed(p)
    if (at) datanodes.set(at.node, at)
  }
  return {namenode, datanodes}
}

/** The NameNode's NameNodeInfo bean, asked from the head; undefined while it has no pod or does not answer. */
export async function namenodeInfo(head: SshSession, pods: HdfsPods): Promise<NameNodeInfoBean | undefined> {
  if (!pods.namenode) return undefined
  return namenodeBean<NameNodeInfoBean>(head, pods.namenode.ip, NAMENODE_INFO).catch(() => undefined)
}

/** How many DataNodes serve: live, in service, and registered from a DataNode pod's address. */
export function servingDataNodes(bean: NameNodeInfoBean, pods: HdfsPods): number {
  const byAddress = dataNodesByAddress(bean)
  return [...pods.datanodes.values()].filter((p) => {
    const dn = byAddress.get(p.ip)
    return dn?.state === 'live' && dn.adminState === 'In Service'
  }).length
}

/**
 * Applies HDFS's objects (idempotent) and waits until the NameNode is out of safe mode and `nodes` DataNodes serve
 * (one on every node). Returns a line for the head's report.
 */
export async function startHdfs(api: ClusterApi, head: SshSession, input: HdfsManifestInput, nodes: number, timeoutMs: number): Promise<string> {
  await api.apply(renderHdfsManifests(input))
  let last = 'no NameNode pod yet'
  await waitFor(
    timeoutMs,
    async () => {
      const pods = await hdfsPods(api)
      const bean = await namenodeInfo(head, pods)
      if (!bean) return false
      const serving = servingDataNodes(bean, pods)
      last = bean.Safemode ? `the NameNode is in safe mode: ${bean.Safemode}` : `${serving} of ${nodes} DataNodes live`
      return !bean.Safemode && serving >= nodes
    },
    `HDFS did not come up in ${HDFS_NAMESPACE} (${last}): see 'kubectl -n ${HDFS_NAMESPACE} get pods' and their logs`,
  )
  return `HDFS: ${nodes} DataNode${nodes === 1 ? '' : 's'} live`
}

/** The cluster's view with HDFS added: each host's DataNode is the one its node's DataNode pod registered. */
export function withKubernetesHdfs(info: ClusterInfo, bean: NameNodeInfoBean, pods: HdfsPods, clusterDomain?: string): ClusterInfo {
  return withHdfs(info, bean, namenodeHost(clusterDomain), (h) => pods.datanodes.get(nodeNameFor(h.id))?.ip)
}
