import {describe, expect, it} from 'vitest'
import {HDFS_NAMESPACE, hdfsHostPaths, kubernetesDefaultFs, namenodeHost, renderHdfsManifests} from '../../../src/engines/kubernetes/hdfs-manifests.js'
import {servingDataNodes, withKubernetesHdfs, type HdfsPods} from '../../../src/engines/kubernetes/hdfs.js'
import type {ClusterInfo} from '../../../src/output/results.js'

const input = {cluster: 'k8s', image: 'cms/hadoop:3.4.3', replication: 2, dataDir: '/var/lib/cms/k8s'}

/* eslint-disable @typescript-eslint/no-explicit-any */
const byKind = (kind: string): any => renderHdfsManifests(input).find((o) => o.kind === kind)
const envOf = (container: any): Record<string, unknown> => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]))

describe('HDFS on Kubernetes: manifests', () => {
  it('applies a namespace, the NameNode behind a headless Service, a DataNode on every node, in that order', () => {
    const objects = renderHdfsManifests(input)
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'Service', 'StatefulSet', 'DaemonSet'])
    for (const o of objects.slice(1)) expect((o.metadata as {namespace: string}).namespace).toBe(HDFS_NAMESPACE)
    const service = byKind('Service')
    expect(service.spec).toMatchObject({clusterIP: 'None', publishNotReadyAddresses: true, selector: {'cms.hdfs/role': 'namenode'}})
    expect(service.spec.ports.map((p: any) => p.port)).toEqual([8020, 9870])
  })

  it('every pod points at the NameNode by its stable DNS name; the name and fs.defaultFS agree', () => {
    expect(namenodeHost()).toBe('hdfs-namenode-0.hdfs-namenode.cms-hdfs.svc.cluster.local')
    expect(kubernetesDefaultFs()).toBe('hdfs://hdfs-namenode-0.hdfs-namenode.cms-hdfs.svc.cluster.local:8020')
    const set = byKind('StatefulSet')
    expect(set.spec).toMatchObject({serviceName: 'hdfs-namenode', replicas: 1})
    for (const kind of ['StatefulSet', 'DaemonSet']) {
      const env = envOf(byKind(kind).spec.template.spec.containers[0])
      expect(env).toMatchObject({HADOOP_NAMENODE: namenodeHost(), HDFS_REPLICATION: '2'})
    }
    expect(envOf(set.spec.template.spec.containers[0])).toMatchObject({HADOOP_CLUSTER_ID: 'cms-k8s', HDFS_EXCLUDE_FILE: '/hadoop/dfs.exclude'})
    // DataNodes are named by their pod's address (WebHDFS redirects there), set from the pod's status.
    const dn = envOf(byKind('DaemonSet').spec.template.spec.containers[0])
    expect(dn.POD_IP).toEqual({fieldRef: {fieldPath: 'status.podIP'}})
    expect(dn.HDFS_SITE).toBe('dfs.datanode.hostname=$(POD_IP)')
  })

  it('the NameNode stays on the head; both roles run the image as uid 185 on a node-local folder made theirs first', () => {
    const nn = byKind('StatefulSet').spec.template.spec
    const dn = byKind('DaemonSet').spec.template.spec
    expect(nn.nodeSelector).toEqual({'cms.role': 'head'})
    expect(dn.nodeSelector).toBeUndefined()
    const paths = hdfsHostPaths(input.dataDir)
    expect(paths).toEqual({namenode: '/var/lib/cms/k8s/hdfs/namenode', datanode: '/var/lib/cms/k8s/hdfs/datanode', excludeFile: '/var/lib/cms/k8s/hdfs/namenode/dfs.exclude'})
    for (const [pod, path, role] of [[nn, paths.namenode, 'namenode'], [dn, paths.datanode, 'datanode']] as const) {
      expect(pod.volumes).toEqual([{name: 'data', hostPath: {path, type: 'DirectoryOrCreate'}}])
      expect(pod.initContainers[0]).toMatchObject({image: input.image, imagePullPolicy: 'Never', command: ['chown', '185:185', '/hadoop'], securityContext: {runAsUser: 0, capabilities: {drop: ['ALL'], add: ['CHOWN']}}})
      const c = pod.containers[0]
      expect(c).toMatchObject({image: input.image, imagePullPolicy: 'Never', args: [role], securityContext: {runAsUser: 185, runAsNonRoot: true, allowPrivilegeEscalation: false}})
      expect(c.volumeMounts).toEqual([{name: 'data', mountPath: '/hadoop'}])
      // No CPU request: a node keeps every whole core for jobs' pods.
      expect(c.resources.requests.cpu).toBeUndefined()
    }
  })

  it('refuses what would make broken objects', () => {
    expect(() => renderHdfsManifests({...input, replication: 0})).toThrow(/replication/)
    expect(() => renderHdfsManifests({...input, cluster: 'Bad Name'})).toThrow()
    expect(() => hdfsHostPaths('relative/dir')).toThrow(/absolute/)
  })
})

describe('HDFS on Kubernetes: what the NameNode reports', () => {
  const live = (ip: string, adminState = 'In Service') => [`dn-${ip}`, {xferaddr: `${ip}:9866`, adminState, capacity: 100, used: 10}]
  const bean = {LiveNodes: JSON.stringify(Object.fromEntries([live('10.244.0.5'), live('10.244.1.7')])), DeadNodes: '{}', Safemode: '', Total: 200, Used: 20}
  const pods: HdfsPods = {
    namenode: {ip: '10.244.0.4', node: 'cms-head'},
    datanodes: new Map([
      ['cms-head', {ip: '10.244.0.5', node: 'cms-head'}],
      ['cms-w1', {ip: '10.244.1.7', node: 'cms-w1'}],
    ]),
  }

  it('counts the DataNodes of the pods that are live and in service', () => {
    expect(servingDataNodes(bean, pods)).toBe(2)
    const decommissioning = {...bean, LiveNodes: JSON.stringify(Object.fromEntries([live('10.244.0.5'), live('10.244.1.7', 'Decommission In Progress')]))}
    expect(servingDataNodes(decommissioning, pods)).toBe(1)
    // A DataNode of a pod that is gone (its node removed) does not count.
    expect(servingDataNodes(bean, {...pods, datanodes: new Map([...pods.datanodes].slice(0, 1))})).toBe(1)
  })

  it("gives each host its node's DataNode, HDFS's figures and URL; degraded when a host has none", () => {
    const info: ClusterInfo = {
      name: 'k8s',
      provider: 'docker',
      engine: 'kubernetes',
      health: 'healthy',
      hosts: [
        {id: 'k8s-head', role: 'head', address: '172.18.0.2', state: 'running'},
        {id: 'k8s-w1', role: 'worker', address: '172.18.0.3', state: 'running'},
      ],
    } as ClusterInfo
    // Node names are the hosts' ids (nodeNameFor).
    const podsByNodeName: HdfsPods = {namenode: pods.namenode, datanodes: new Map([['k8s-head', pods.datanodes.get('cms-head')!], ['k8s-w1', pods.datanodes.get('cms-w1')!]])}
    const out = withKubernetesHdfs(info, bean, podsByNodeName)
    expect(out.hdfs).toMatchObject({namenodeUrl: 'hdfs://hdfs-namenode-0.hdfs-namenode.cms-hdfs.svc.cluster.local:8020', liveDataNodes: 2, capacityBytes: 200, usedBytes: 20})
    expect(out.hosts.map((h) => h.datanode?.state)).toEqual(['live', 'live'])
    expect(out.health).toBe('healthy')
    const oneMissing = withKubernetesHdfs(info, bean, {...podsByNodeName, datanodes: new Map([...podsByNodeName.datanodes].slice(0, 1))})
    expect(oneMissing.health).toBe('degraded')
  })
})
