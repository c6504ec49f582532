import {shq} from '../../remote/shell.js'
import type {SshSession} from '../../remote/session.js'
import {waitFor} from '../coordination.js'
import {dataNodesByAddress} from '../hadoop/describe.js'
import type {ClusterApi} from './cluster-api.js'
import {hdfsPods, namenodeInfo} from './hdfs.js'
import {hdfsHostPaths} from './hdfs-manifests.js'
import {checkAbsolutePath, checkAddress} from './names.js'

/**
 * `remove` of a node of a Kubernetes cluster with HDFS: its DataNode is decommissioned through the NameNode first
 * (every block it holds copied to the others), as on the other engines. The NameNode reads the addresses to
 * decommission from its exclude file, which lives in its node-local folder on the head; cms edits it there over SSH
 * and has the NameNode read it again with `hdfs dfsadmin -refreshNodes`, run inside the NameNode's container through
 * the head's containerd (as the NameNode's own user, HDFS's superuser).
 */

/**
 * Adds `address` to the exclude file (or, without one, empties it), and when that changed the file, makes the
 * NameNode read it. The file keeps its owner (the NameNode's user). Prints `changed` or `unchanged`.
 */
export function excludeScript(input: {excludeFile: string; address?: string; socket: string; containerId: string}): string {
  const f = shq(checkAbsolutePath('the exclude file', input.excludeFile))
  const a = input.address === undefined ? undefined : shq(checkAddress('a DataNode address', input.address))
  if (!/^[0-9a-f]{12,64}$/.test(input.containerId)) throw new Error(`not a container id: ${JSON.stringify(input.containerId)}`)
  const ctr = `ctr --address ${shq(checkAbsolutePath("containerd's socket", input.socket))} -n k8s.io`
  return [
    'set -e',
    `f=${f}`,
    'r=unchanged',
    '[ -f "$f" ] || : > "$f"',
    a ? `if ! grep -qxF ${a} "$f"; then printf '%s\\n' ${a} >> "$f"; r=changed; fi` : 'if [ -s "$f" ]; then : > "$f"; r=changed; fi',
    `if [ "$r" = changed ]; then ${ctr} tasks exec --exec-id "cms-refresh-$$" ${shq(input.containerId)} hdfs dfsadmin -refreshNodes >&2; fi`,
    'echo "$r"',
  ].join('\n')
}

/** The id of a pod's container as containerd knows it (containerStatuses[].containerID is containerd://ID). */
export function containerdId(containerId: string | undefined): string | undefined {
  const m = /^containerd:\/\/([0-9a-f]{12,64})$/.exec(containerId ?? '')
  return m?.[1]
}

interface Decommission {
  head: SshSession
  api: ClusterApi
  /** The cluster's data folder on the head (KubernetesLayout.dataDir) and its containerd socket. */
  dataDir: string
  socket: string
  nodeName: string
}

/** Where the NameNode's container runs, to edit its exclude file and refresh it; undefined when it has no pod. */
async function namenodeContainer(api: ClusterApi): Promise<string | undefined> {
  const pods = await api.pods('cms-hdfs', 'cms.hdfs/role=namenode')
  return containerdId(pods[0]?.status?.containerStatuses?.find((c) => c.name === 'namenode')?.containerID)
}

/**
 * Decommissions the DataNode of `nodeName` and waits (bounded) until the NameNode reports it decommissioned (it stays
 * listed so until the exclude file is emptied: see forgetDataNodes). Returns a line for the report.
 */
export async function decommissionDataNode(d: Decommission, timeoutMs: number): Promise<string> {
  const pods = await hdfsPods(d.api)
  const dn = pods.datanodes.get(d.nodeName)
  if (!dn) return 'no DataNode'
  const containerId = await namenodeContainer(d.api)
  if (!containerId) return 'HDFS has no NameNode running: DataNode not decommissioned'
  const excludeFile = hdfsHostPaths(d.dataDir).excludeFile
  await d.head.run(excludeScript({excludeFile, address: dn.ip, socket: d.socket, containerId}), {label: 'decommission the DataNode', timeoutMs: 120_000})
  let note = 'DataNode decommissioned'
  await waitFor(
    timeoutMs,
    async () => {
      const bean = await namenodeInfo(d.head, pods)
      const state = bean && dataNodesByAddress(bean).get(dn.ip)
      return Boolean(bean) && (!state || state.state === 'dead' || state.adminState === 'Decommissioned')
    },
    'decommissioning did not finish in time',
  ).catch((error: Error) => (note = `DataNode: ${error.message}; removed anyway`))
  return note
}

/**
 * Empties the exclude file when the cluster converges (create, add): the nodes removed before are gone, and a new
 * node's DataNode pod may get the address of one of theirs (pod ranges are given out again).
 */
export async function forgetDataNodes(d: Omit<Decommission, 'nodeName'>): Promise<void> {
  const containerId = await namenodeContainer(d.api)
  if (!containerId) return
  await d.head.run(excludeScript({excludeFile: hdfsHostPaths(d.dataDir).excludeFile, socket: d.socket, containerId}), {label: 'forget removed DataNodes', timeoutMs: 120_000})
}
