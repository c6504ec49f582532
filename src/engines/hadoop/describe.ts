import type {ClusterInfo, ClusterListEntry, DataNodeView, HdfsView, HostView, NodeManagerView} from '../../output/results.js'
import {HADOOP_PORTS, hostPort} from './site-config.js'
import type {Host} from '../../providers/provider.js'

/** The parts of the NameNode's NameNodeInfo bean cms reads (LiveNodes and DeadNodes are JSON text keyed by node name). */
export interface NameNodeInfoBean {
  LiveNodes?: string
  DeadNodes?: string
  /** Empty when the NameNode is out of safe mode, else why it is in it. */
  Safemode?: string
  Total?: number
  Used?: number
}

/** A node of the ResourceManager's /ws/v1/cluster/nodes. */
export interface RmNode {
  id: string
  nodeHostName: string
  state: string
  usedMemoryMB?: number
  availMemoryMB?: number
  usedVirtualCores?: number
  availableVirtualCores?: number
  numContainers?: number
}

export interface RmMetrics {
  appsRunning?: number
  appsPending?: number
  totalMB?: number
  allocatedMB?: number
  totalVirtualCores?: number
  allocatedVirtualCores?: number
}

export interface HadoopState {
  namenode: NameNodeInfoBean
  rmState: string
  nodes: RmNode[]
  metrics: RmMetrics
}

interface DataNodeEntry {
  xferaddr?: string
  adminState?: string
  capacity?: number
  used?: number
}

/** The NameNode's nodes by the address they transfer blocks on (cms binds every DataNode to its private address). */
export function dataNodesByAddress(bean: NameNodeInfoBean): Map<string, DataNodeView> {
  const out = new Map<string, DataNodeView>()
  for (const [state, text] of [['dead', bean.DeadNodes], ['live', bean.LiveNodes]] as const) {
    let nodes: Record<string, DataNodeEntry> = {}
    try {
      nodes = JSON.parse(text || '{}') as Record<string, DataNodeEntry>
    } catch {
      continue
    }
    for (const [name, n] of Object.entries(nodes)) {
      const address = hostOf(n.xferaddr ?? name)
      out.set(address, {state, adminState: n.adminState ?? (state === 'dead' ? 'unknown' : 'In Service'), capacityBytes: n.capacity ?? 0, usedBytes: n.used ?? 0})
    }
  }
  return out
}

/** The host part of `host:port` (IPv6 in brackets too). */
export function hostOf(hostPort: string): string {
  return hostPort.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
}

/** The ResourceManager's nodes by host: cms's NodeManagers register under their private address. */
export function nodeManagersByAddress(nodes: RmNode[]): Map<string, NodeManagerView> {
  const out = new Map<string, NodeManagerView>()
  for (const n of nodes) {
    const used = n.usedMemoryMB ?? 0
    const usedCores = n.usedVirtualCores ?? 0
    const view: NodeManagerView = {
      id: n.id,
      state: n.state,
      memoryMb: used + (n.availMemoryMB ?? 0),
      memoryUsedMb: used,
      vcores: usedCores + (n.availableVirtualCores ?? 0),
      vcoresUsed: usedCores,
      containers: n.numContainers ?? 0,
    }
    // A host that left and came back is listed twice: its running node wins over the old one.
    const address = hostOf(n.id)
    if (!out.has(address) || n.state === 'RUNNING') out.set(address, view)
  }
  return out
}

/** HDFS's figures from the NameNode's NameNodeInfo: a decommissioned DataNode is not counted live. */
export function hdfsView(bean: NameNodeInfoBean, headAddress: string): HdfsView {
  const nodes = [...dataNodesByAddress(bean).values()]
  const live = nodes.filter((d) => d.state === 'live' && d.adminState !== 'Decommissioned')
  return {
    namenodeUrl: `hdfs://${hostPort(headAddress, HADOOP_PORTS.namenodeRpc)}`,
    ...(bean.Safemode ? {safeMode: bean.Safemode} : {}),
    liveDataNodes: live.length,
    deadDataNodes: nodes.length - live.length,
    capacityBytes: bean.Total ?? 0,
    usedBytes: bean.Used ?? 0,
  }
}

/**
 * A cluster of another engine with HDFS beside it: the NameNode's view added, each host's DataNode too (the NameNode
 * knows a DataNode by the address it registered from: the host's own, or its pod's on Kubernetes). Degraded while the
 * NameNode is in safe mode or a host's DataNode is not live and in service. `headAddress` is where the NameNode
 * listens (an address or a name).
 */
export function withHdfs(info: ClusterInfo, bean: NameNodeInfoBean, headAddress: string, dataNodeAddress: (h: HostView) => string | undefined = (h) => h.privateAddress ?? h.address): ClusterInfo {
  const datanodes = dataNodesByAddress(bean)
  const hosts = info.hosts.map((h) => {
    const address = dataNodeAddress(h)
    const dn = address === undefined ? undefined : datanodes.get(address)
    return dn ? {...h, datanode: dn} : h
  })
  const serving = !bean.Safemode && hosts.every((h) => h.datanode?.state === 'live' && h.datanode.adminState === 'In Service')
  return {...info, hosts, hdfs: hdfsView(bean, headAddress), health: info.health === 'healthy' && !serving ? 'degraded' : info.health}
}

export function hdfsListFields(hdfs: HdfsView): Partial<ClusterListEntry> {
  return {liveDataNodes: hdfs.liveDataNodes, hdfsCapacityBytes: hdfs.capacityBytes, hdfsUsedBytes: hdfs.usedBytes}
}

/** Takes work: a live, in-service DataNode and a running NodeManager. */
function computes(v: HostView): boolean {
  return v.datanode?.state === 'live' && v.datanode.adminState === 'In Service' && v.nodemanager?.state === 'RUNNING'
}

/**
 * The cluster as HDFS and YARN report it. Healthy: the NameNode is out of safe mode, the ResourceManager serves, and
 * every computing host (the head too unless it was created with --head-compute=false) has a live DataNode and a
 * running NodeManager.
 */
export function hadoopClusterInfo(
  name: string,
  provider: string,
  hosts: Host[],
  opts: {state?: HadoopState; headAddress?: string; headComputes: boolean; error?: string},
): ClusterInfo {
  const {state} = opts
  const head = hosts.find((h) => h.role === 'head')
  const datanodes = state ? dataNodesByAddress(state.namenode) : new Map<string, DataNodeView>()
  const nodemanagers = state ? nodeManagersByAddress(state.nodes) : new Map<string, NodeManagerView>()
  const views: HostView[] = hosts.map((h) => {
    const address = h.privateAddress ?? h.target.host
    const dn = datanodes.get(address)
    const nm = nodemanagers.get(address)
    return {id: h.id, role: h.role, address: h.target.host, privateAddress: h.privateAddress, state: h.state, ...(dn ? {datanode: dn} : {}), ...(nm ? {nodemanager: nm} : {})}
  })
  const computing = views.filter((v) => v.role !== 'head' || opts.headComputes)
  const up = state !== undefined && state.rmState === 'STARTED'
  const info: ClusterInfo = {
    name,
    provider,
    engine: 'hadoop',
    health: !up ? 'down' : !state.namenode.Safemode && computing.length > 0 && computing.every(computes) ? 'healthy' : 'degraded',
    head: head && {id: head.id, address: head.target.host, privateAddress: head.privateAddress},
    hosts: views,
  }
  if (state && opts.headAddress) {
    const m = state.metrics
    info.hdfs = hdfsView(state.namenode, opts.headAddress)
    info.yarn = {
      resourceManagerUrl: `http://${hostPort(opts.headAddress, HADOOP_PORTS.rmHttp)}`,
      state: state.rmState,
      runningNodeManagers: [...nodemanagers.values()].filter((n) => n.state === 'RUNNING').length,
      memoryMb: m.totalMB ?? 0,
      memoryUsedMb: m.allocatedMB ?? 0,
      vcores: m.totalVirtualCores ?? 0,
      vcoresUsed: m.allocatedVirtualCores ?? 0,
      runningApps: m.appsRunning ?? 0,
      pendingApps: m.appsPending ?? 0,
    }
  }
  if (opts.error) info.masterError = opts.error
  else if (state && !up) info.masterError = `the ResourceManager is ${state.rmState}`
  return info
}
