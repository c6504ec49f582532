/**
 * Pure translation of a JobSpec into what Spark standalone takes: Spark properties, the REST
 * `CreateSubmissionRequest` body (JVM apps, cluster deploy mode) and a spark-submit argv (client mode on the head,
 * used for Python apps). No I/O: the engine stages files first and passes their remote locations in.
 */
import {appKind, type JobSpec} from './spec.js'

export interface SparkPropertiesInput {
  /** spark://host:7077 */
  masterUrl: string
  /** Where the app is for the driver (a staged path, file: URI or URL). Not a property itself; kept for symmetry. */
  appResource: string
  /** The spec's jars/files/pyFiles as the cluster sees them (staged paths or the original URLs), in spec order. */
  remoteJars: string[]
  remoteFiles: string[]
  remotePyFiles: string[]
}

/**
 * Spark properties for the job, in this order: cms's own (name, master, deploy mode), resources, env for executors,
 * staged file lists — then the user's `conf`, which wins over everything derived from fields.
 *
 * `executor.instances` N also sets `spark.cores.max` = N × cores (standalone has no executor count of its own, it
 * hands out cores); when `executor.cores` is not given it is set to 1 so that exactly N executors start (otherwise
 * one executor would take every core of a worker).
 */
export function sparkProperties(spec: JobSpec, input: SparkPropertiesInput): Record<string, string> {
  const p: Record<string, string> = {
    'spark.app.name': spec.name,
    'spark.master': input.masterUrl,
    'spark.submit.deployMode': appKind(spec) === 'jvm' ? 'cluster' : 'client',
  }
  if (spec.driver.cores !== undefined) p['spark.driver.cores'] = String(spec.driver.cores)
  if (spec.driver.memory !== undefined) p['spark.driver.memory'] = spec.driver.memory
  const {cores, memory, instances} = spec.executor
  if (cores !== undefined) p['spark.executor.cores'] = String(cores)
  if (memory !== undefined) p['spark.executor.memory'] = memory
  if (instances !== undefined) {
    p['spark.executor.instances'] = String(instances)
    p['spark.executor.cores'] = String(cores ?? 1)
    p['spark.cores.max'] = String(instances * (cores ?? 1))
  }
  for (const [k, v] of Object.entries(spec.env)) p[`spark.executorEnv.${k}`] = v
  if (input.remoteJars.length > 0) p['spark.jars'] = input.remoteJars.join(',')
  if (input.remoteFiles.length > 0) p['spark.files'] = input.remoteFiles.join(',')
  if (input.remotePyFiles.length > 0) p['spark.submit.pyFiles'] = input.remotePyFiles.join(',')
  return {...p, ...spec.conf}
}

/** The JSON body of `POST /v1/submissions/create` on Spark standalone's REST server (port 6066). */
export interface RestCreateRequest {
  action: 'CreateSubmissionRequest'
  appResource: string
  mainClass: string
  appArgs: string[]
  clientSparkVersion: string
  environmentVariables: Record<string, string>
  sparkProperties: Record<string, string>
}

/** The REST create request for a JVM app (cluster deploy mode). Throws for a spec without mainClass (a .py app). */
export function restCreateRequest(spec: JobSpec, props: Record<string, string>, opts: {appResource: string; sparkVersion: string}): RestCreateRequest {
  if (spec.mainClass === undefined) throw new Error(`job ${spec.name}: the Spark REST API needs a mainClass (only .jar apps are submitted over REST)`)
  return {
    action: 'CreateSubmissionRequest',
    appResource: opts.appResource,
    mainClass: spec.mainClass,
    appArgs: [...spec.args],
    clientSparkVersion: opts.sparkVersion,
    environmentVariables: {...spec.env},
    sparkProperties: {...props},
  }
}

/** Properties that become spark-submit options rather than `--conf k=v`. */
const AS_OPTION: Readonly<Record<string, string | null>> = {
  'spark.master': null,
  'spark.submit.deployMode': null,
  'spark.app.name': null,
  'spark.jars': '--jars',
  'spark.files': '--files',
  'spark.submit.pyFiles': '--py-files',
}

/**
 * Arguments for `bin/spark-submit` (after the program name), in client deploy mode unless `deployMode` says
 * otherwise (YARN runs every driver in the cluster). An argv, not a shell string: each element is one argument,
 * nothing is quoted here; whoever runs it must pass it without a shell or quote every element.
 */
export function sparkSubmitArgv(spec: JobSpec, props: Record<string, string>, opts: {appPath: string; deployMode?: 'client' | 'cluster'}): string[] {
  const argv = ['--master', props['spark.master'] ?? '', '--deploy-mode', opts.deployMode ?? 'client', '--name', props['spark.app.name'] ?? spec.name]
  if (appKind(spec) === 'jvm' && spec.mainClass !== undefined) argv.push('--class', spec.mainClass)
  for (const [key, flag] of Object.entries(AS_OPTION)) {
    const v = props[key]
    if (flag && v !== undefined && v !== '') argv.push(flag, v)
  }
  for (const [k, v] of Object.entries(props)) if (!(k in AS_OPTION)) argv.push('--conf', `${k}=${v}`)
  argv.push(opts.appPath, ...spec.args)
  return argv
}
