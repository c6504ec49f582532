/**
 * The spec's `volumes` on each engine. Kubernetes mounts them in the driver's pod and, through Spark's
 * spark.kubernetes.executor.volumes.* properties, in every executor pod. Engines whose drivers and executors are
 * processes on the hosts (Spark standalone, Hadoop/YARN, Nomad's raw_exec) have nothing to mount: a hostPath volume is
 * the hosts' own folder, at its own path, and anything else is refused. Pure: no I/O.
 */
import {UsageError} from '../remote/errors.js'
import type {JobSpec} from './spec.js'

export type JobVolume = JobSpec['volumes'][number]

/** Volume names the Kubernetes translation uses itself (the job's files) or Spark gives its own volumes. */
const RESERVED_VOLUME_NAME = /^(cms-|spark-)/

function kindOf(v: JobVolume): 'hostPath' | 'pvc' | 'emptyDir' {
  return v.hostPath !== undefined ? 'hostPath' : v.pvc !== undefined ? 'pvc' : 'emptyDir'
}

/** Refuses (exit 2) the volumes an engine of host processes cannot honour, naming each. */
export function checkHostVolumes(spec: Pick<JobSpec, 'name' | 'volumes'>, engine: string): void {
  const problems = spec.volumes.flatMap((v, i) => {
    const where = `volumes[${i}] (${v.name})`
    if (v.hostPath === undefined) return [`${where}: ${engine} runs jobs as processes on the hosts, which can use hostPath volumes only, not ${kindOf(v)}`]
    if (v.mount !== v.hostPath) return [`${where}: on ${engine} a hostPath volume is the hosts' own folder, so mount must be ${v.hostPath} too`]
    return []
  })
  if (problems.length > 0) throw new UsageError(`job ${spec.name}: ${problems.join('; ')}`)
}

/** Refuses volume names that would collide with the pod's own volumes. */
export function checkKubernetesVolumes(spec: Pick<JobSpec, 'name' | 'volumes'>): void {
  const problems = spec.volumes.flatMap((v, i) => (RESERVED_VOLUME_NAME.test(v.name) ? [`volumes[${i}].name: ${v.name} starts with cms- or spark-, which cms and Spark use for their own volumes`] : []))
  if (problems.length > 0) throw new UsageError(`job ${spec.name}: ${problems.join('; ')}`)
}

const SPARK_VOLUME_TYPE = {hostPath: 'hostPath', pvc: 'persistentVolumeClaim', emptyDir: 'emptyDir'} as const

/** spark.kubernetes.executor.volumes.TYPE.NAME.*: every executor pod mounts each volume. */
export function executorVolumeProperties(volumes: readonly JobVolume[]): Record<string, string> {
  const p: Record<string, string> = {}
  for (const v of volumes) {
    const prefix = `spark.kubernetes.executor.volumes.${SPARK_VOLUME_TYPE[kindOf(v)]}.${v.name}`
    p[`${prefix}.mount.path`] = v.mount
    p[`${prefix}.mount.readOnly`] = String(v.readOnly)
    if (v.hostPath !== undefined) p[`${prefix}.options.path`] = v.hostPath
    if (v.pvc !== undefined) p[`${prefix}.options.claimName`] = v.pvc
  }
  return p
}

/** The driver pod's volumes and its container's mounts. */
export function podVolumes(volumes: readonly JobVolume[]): {volumes: object[]; volumeMounts: object[]} {
  return {
    volumes: volumes.map((v) =>
      v.hostPath !== undefined
        ? {name: v.name, hostPath: {path: v.hostPath}}
        : v.pvc !== undefined
          ? {name: v.name, persistentVolumeClaim: {claimName: v.pvc, readOnly: v.readOnly}}
          : {name: v.name, emptyDir: {}},
    ),
    volumeMounts: volumes.map((v) => ({name: v.name, mountPath: v.mount, readOnly: v.readOnly})),
  }
}
