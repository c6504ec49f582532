import {validateClusterName} from '../../cluster/names.js'
import {CLUSTER_DOMAIN} from './network.js'

/**
 * HDFS on a cms Kubernetes cluster (`cms cluster create -e kubernetes --hdfs`), as objects for server-side apply
 * (pure): in a namespace of its own, a NameNode (a StatefulSet of one, pinned to the head, behind a headless Service
 * that gives it a stable DNS name) and a DataNode on every node (a DaemonSet), all from the Hadoop image
 * (images/hadoop), configured through its environment.
 *
 * Storage is a hostPath under the cluster's data folder on each node (/var/lib/cms/CLUSTER/hdfs): it outlives a pod's
 * restart or replacement (an emptyDir would not, and a NameNode that comes back empty orphans every block), needs no
 * storage provisioner (cms clusters have none), and `cms cluster kill` removes it with the rest of the cluster's
 * data. The NameNode is pinned to the head because its metadata lives on the head's disk.
 *
 * Every pod uses the pod network: DataNodes register with the NameNode by their pod address (the NameNode takes the
 * address the registration came from, so its host-name check is off), and clients (Spark's executors) reach them
 * there; the headless Service resolves straight to the NameNode pod, so no address is translated on the way.
 */

export const HDFS_NAMESPACE = 'cms-hdfs'
export const NAMENODE_NAME = 'hdfs-namenode'
export const DATANODE_NAME = 'hdfs-datanode'
/** The label every HDFS object and pod carries (its value: namenode or datanode). */
export const HDFS_ROLE_LABEL = 'cms.hdfs/role'
/** The uid the Hadoop image runs as: the owner of the node-local folders. */
export const HADOOP_UID = 185
const RPC_PORT = 8020
const HTTP_PORT = 9870

export interface HdfsManifestInput {
  cluster: string
  /** The Hadoop image, already on every node (cms image load): pods never pull it. */
  image: string
  /** Copies of each block (dfs.replication). */
  replication: number
  /** The cluster's data folder on the nodes (KubernetesLayout.dataDir); HDFS keeps its data under DATA_DIR/hdfs. */
  dataDir: string
  clusterDomain?: string
}

/** The NameNode's stable name, as every pod resolves it: its StatefulSet pod under the headless Service. */
export function namenodeHost(clusterDomain = CLUSTER_DOMAIN): string {
  return `${NAMENODE_NAME}-0.${NAMENODE_NAME}.${HDFS_NAMESPACE}.svc.${clusterDomain}`
}

/** `spark.hadoop.fs.defaultFS` of Spark pods on a cluster with HDFS. */
export function kubernetesDefaultFs(clusterDomain = CLUSTER_DOMAIN): string {
  return `hdfs://${namenodeHost(clusterDomain)}:${RPC_PORT}`
}

/** Where each role keeps its data on a node. */
export function hdfsHostPaths(dataDir: string): {namenode: string; datanode: string; excludeFile: string} {
  if (!/^\/[^,\s]*$/.test(dataDir)) throw new Error(`the data folder must be an absolute path without commas or whitespace: ${JSON.stringify(dataDir)}`)
  const namenode = `${dataDir}/hdfs/namenode`
  return {namenode, datanode: `${dataDir}/hdfs/datanode`, excludeFile: `${namenode}/dfs.exclude`}
}

const IMAGE_DATA_DIR = '/hadoop'

function labels(role: 'namenode' | 'datanode'): Record<string, string> {
  return {[HDFS_ROLE_LABEL]: role, 'app.kubernetes.io/name': 'hdfs', 'app.kubernetes.io/component': role}
}

/** The pod of one role: the node-local folder made the image user's by an init container, then the daemon. */
function podSpec(input: HdfsManifestInput, role: 'namenode' | 'datanode', hostPath: string, extra: Record<string, unknown>, env: Array<Record<string, unknown>>): Record<string, unknown> {
  const heap = role === 'namenode' ? '512m' : '256m'
  return {
    ...extra,
    enableServiceLinks: false,
    // The daemons stop cleanly on SIGTERM (a NameNode saves nothing late: its edits are written as they happen).
    terminationGracePeriodSeconds: 30,
    initContainers: [
      {
        name: 'own-data',
        image: input.image,
        imagePullPolicy: 'Never',
        command: ['chown', `${HADOOP_UID}:${HADOOP_UID}`, IMAGE_DATA_DIR],
        securityContext: {runAsUser: 0, runAsNonRoot: false, capabilities: {drop: ['ALL'], add: ['CHOWN']}},
        volumeMounts: [{name: 'data', mountPath: IMAGE_DATA_DIR}],
      },
    ],
    containers: [
      {
        name: role,
        image: input.image,
        imagePullPolicy: 'Never',
        args: [role],
        env: [
          {name: 'HADOOP_NAMENODE', value: namenodeHost(input.clusterDomain)},
          {name: 'HDFS_REPLICATION', value: String(input.replication)},
          {name: 'HADOOP_HEAPSIZE_MAX', value: heap},
          ...env,
        ],
        ports:
          role === 'namenode'
            ? [
                {name: 'rpc', containerPort: RPC_PORT},
                {name: 'http', containerPort: HTTP_PORT},
              ]
            : [
                {name: 'data', containerPort: 9866},
                {name: 'http', containerPort: 9864},
                {name: 'ipc', containerPort: 9867},
              ],
        readinessProbe: role === 'namenode' ? {tcpSocket: {port: RPC_PORT}, periodSeconds: 5} : {tcpSocket: {port: 9866}, periodSeconds: 5},
        // Memory only: the daemons are mostly idle, and a CPU request would take from every node a share the
        // scheduler could no longer give to a job's pods asking for whole cores.
        resources: {requests: {memory: role === 'namenode' ? '384Mi' : '256Mi'}},
        securityContext: {runAsUser: HADOOP_UID, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}},
        volumeMounts: [{name: 'data', mountPath: IMAGE_DATA_DIR}],
      },
    ],
    volumes: [{name: 'data', hostPath: {path: hostPath, type: 'DirectoryOrCreate'}}],
  }
}

/** The namespace, the NameNode's Service and StatefulSet, the DataNodes' DaemonSet: applied in this order. */
export function renderHdfsManifests(input: HdfsManifestInput): Array<Record<string, unknown>> {
  validateClusterName(input.cluster)
  if (!Number.isInteger(input.replication) || input.replication < 1) throw new Error(`invalid HDFS replication ${input.replication}`)
  const paths = hdfsHostPaths(input.dataDir)
  const ns = HDFS_NAMESPACE
  const nn = labels('namenode')
  const dn = labels('datanode')
  return [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}},
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: NAMENODE_NAME, namespace: ns, labels: nn},
      spec: {
        clusterIP: 'None',
        // DataNodes and clients resolve the NameNode while it starts (before it is ready).
        publishNotReadyAddresses: true,
        selector: nn,
        ports: [
          {name: 'rpc', port: RPC_PORT},
          {name: 'http', port: HTTP_PORT},
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {name: NAMENODE_NAME, namespace: ns, labels: nn},
      spec: {
        serviceName: NAMENODE_NAME,
        replicas: 1,
        selector: {matchLabels: nn},
        template: {
          metadata: {labels: nn},
          spec: podSpec(input, 'namenode', paths.namenode, {nodeSelector: {'cms.role': 'head'}}, [
            {name: 'HADOOP_CLUSTER_ID', value: `cms-${input.cluster}`},
            {name: 'HDFS_EXCLUDE_FILE', value: `${IMAGE_DATA_DIR}/dfs.exclude`},
          ]),
        },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: {name: DATANODE_NAME, namespace: ns, labels: dn},
      spec: {
        selector: {matchLabels: dn},
        template: {
          metadata: {labels: dn},
          spec: podSpec(input, 'datanode', paths.datanode, {}, [
            // The DataNode's name is its pod's address: WebHDFS redirects clients outside the pod network (put/get
            // through the head) to a name they can reach.
            {name: 'POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
            {name: 'HDFS_SITE', value: 'dfs.datanode.hostname=$(POD_IP)'},
          ]),
        },
      },
    },
  ]
}
