/**
 * Pure translation of a JobSpec into a Nomad batch job (the JSON the HTTP API takes): one task that runs the app
 * with the cluster's Spark runtime in local mode, sized from the spec. No I/O: the engine stages files first and
 * passes their paths on the hosts in.
 */
import {sparkProperties, sparkSubmitArgv} from './spark-translate.js'
import {appKind, type JobSpec} from './spec.js'

export interface NomadSpecInput {
  /** The Nomad job ID (unique per submission). */
  jobId: string
  /** SPARK_HOME on every host (the runtime shipped at create with --spark-dist). */
  sparkHome: string
  /** The spec's app, jars, files and pyFiles as the hosts see them (staged paths or the original URLs). */
  appPath: string
  remoteJars: string[]
  remoteFiles: string[]
  remotePyFiles: string[]
  /** The cluster's HDFS (nomad --hdfs), for paths without a scheme; the spec's own conf wins. */
  defaultFs?: string
}

const SECOND_NS = 1_000_000_000

/** A JVM size ("512m", "2g", "1024" = MiB) in MiB, rounded up. */
export function memoryMb(size: string): number {
  const m = /^(\d+)([kmgt]?)$/i.exec(size)
  if (!m) throw new Error(`not a memory size: ${size}`)
  const n = Number(m[1])
  const unit = m[2]!.toLowerCase()
  const mb = unit === 'k' ? n / 1024 : unit === 'g' ? n * 1024 : unit === 't' ? n * 1024 * 1024 : n
  return Math.max(1, Math.ceil(mb))
}

/** The spec's 0-1000 priority on Nomad's 1-100 scale; 0 (unset) is Nomad's default, 50. */
export function nomadPriority(priority: number): number {
  if (priority === 0) return 50
  return Math.min(100, Math.max(1, Math.round(priority / 10)))
}

/**
 * Local mode runs the driver and the executors in one JVM, so the task gets the cores of every executor (or the
 * driver's, at least 1) and the driver's memory plus every executor's (Spark's default 1g each), plus 256 MiB of
 * JVM overhead.
 */
export function taskResources(spec: JobSpec): {cores: number; memoryMb: number} {
  const instances = spec.executor.instances ?? 1
  const cores = Math.max(spec.driver.cores ?? 1, instances * (spec.executor.cores ?? 1))
  const driver = memoryMb(spec.driver.memory ?? '1g')
  const executors = spec.executor.memory === undefined ? 0 : instances * memoryMb(spec.executor.memory)
  return {cores, memoryMb: driver + executors + 256}
}

/** The Nomad job (API JSON) for a spec. */
export function nomadJobForSpec(spec: JobSpec, input: NomadSpecInput): Record<string, unknown> {
  const {cores, memoryMb: memory} = taskResources(spec)
  const props = sparkProperties(spec, {
    masterUrl: `local[${cores}]`,
    appResource: input.appPath,
    remoteJars: input.remoteJars,
    remoteFiles: input.remoteFiles,
    remotePyFiles: input.remotePyFiles,
  })
  // Local mode: the driver's memory is the JVM's heap; everything runs in the task.
  props['spark.submit.deployMode'] = 'client'
  props['spark.driver.memory'] = `${memory - 256}m`
  props['spark.ui.enabled'] = props['spark.ui.enabled'] ?? 'false'
  if (input.defaultFs) props['spark.hadoop.fs.defaultFS'] ??= input.defaultFs
  const args = sparkSubmitArgv(spec, props, {appPath: input.appPath})
  return {
    ID: input.jobId,
    Name: input.jobId,
    Type: 'batch',
    Priority: nomadPriority(spec.priority),
    Datacenters: ['*'],
    Meta: {'cms.spec': spec.name, 'cms.kind': appKind(spec), 'cms.retries': String(spec.retries)},
    TaskGroups: [
      {
        Name: 'app',
        Count: 1,
        // Every retry restarts the task in place; a lost node is not retried elsewhere (the files are staged on
        // every host, but a retry count means "tries", as on the other engines).
        RestartPolicy: {Attempts: spec.retries, Interval: 7 * 24 * 3600 * SECOND_NS, Delay: 5 * SECOND_NS, Mode: 'fail'},
        ReschedulePolicy: {Attempts: 0, Interval: 0, Unlimited: false},
        Tasks: [
          {
            Name: 'spark',
            Driver: 'raw_exec',
            Config: {command: `${input.sparkHome}/bin/spark-submit`, args},
            Env: {...spec.env, SPARK_HOME: input.sparkHome},
            Resources: {Cores: cores, MemoryMB: memory},
            KillTimeout: 10 * SECOND_NS,
          },
        ],
      },
    ],
  }
}
