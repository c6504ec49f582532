/**
 * Pure translation of a JobSpec into a Nomad batch job (the JSON the HTTP API takes): one task that runs the app
 * with the cluster's Spark runtime in local mode, sized from the spec. No I/O: the engine stages files first and
 * passes their paths on the hosts in.
 */
import {executorEnvProperties, s3Environment, s3SparkProperties, type S3Access} from './s3.js'
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
  /**
   * S3 for s3a:// paths: where the store is (endpoint, region). The credentials are not here: the engine writes them
   * into the Nomad variable nomadS3VariablePath(jobId) (item `credentials`), and a template renders it into the
   * task's secrets dir (0600; Nomad keeps that dir private to the task) where the AWS SDK reads it.
   */
  s3?: Pick<S3Access, 'endpoint' | 'region'>
}

/** The variable a spec job's S3 credentials live in: nomad/jobs/ID, which only that job's tasks may read. */
export function nomadS3VariablePath(jobId: string): string {
  return `nomad/jobs/${jobId}`
}

/** The variable's item holding the credentials file's text. */
export const NOMAD_S3_ITEM = 'credentials'
/** Where the template renders it, relative to the task dir; NOMAD_SECRETS_DIR is the absolute one. */
const S3_CREDENTIALS_FILE = 's3-credentials'

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
  // Local mode: the driver and the executors are the task's one JVM, so the task's environment is all they need.
  const s3Via = {kind: 'file', path: `\${NOMAD_SECRETS_DIR}/${S3_CREDENTIALS_FILE}`} as const
  const s3Env = input.s3 ? s3Environment(input.s3, s3Via) : {}
  const props = sparkProperties(spec, {
    masterUrl: `local[${cores}]`,
    appResource: input.appPath,
    remoteJars: input.remoteJars,
    remoteFiles: input.remoteFiles,
    remotePyFiles: input.remotePyFiles,
    extra: input.s3 ? {...s3SparkProperties(input.s3, s3Via), ...executorEnvProperties(s3Env)} : undefined,
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
    Meta: {'cms.spec': spec.name, 'cms.kind': appKind(spec), 'cms.retries': String(spec.retries), ...(input.s3 ? {'cms.s3': 'variable'} : {})},
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
            Env: {...spec.env, ...s3Env, SPARK_HOME: input.sparkHome},
            ...(input.s3
              ? {
                  Templates: [
                    {
                      // The variable's text as it is (no interpolation of it); rendered before the task starts (Nomad
                      // waits for the variable), and not re-rendered into a running task.
                      EmbeddedTmpl: `{{ with nomadVar ${JSON.stringify(nomadS3VariablePath(input.jobId))} }}{{ .${NOMAD_S3_ITEM} }}{{ end }}`,
                      DestPath: `secrets/${S3_CREDENTIALS_FILE}`,
                      Perms: '0600',
                      ChangeMode: 'noop',
                    },
                  ],
                }
              : {}),
            Resources: {Cores: cores, MemoryMB: memory},
            KillTimeout: 10 * SECOND_NS,
          },
        ],
      },
    ],
  }
}
