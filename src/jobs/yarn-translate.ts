/**
 * Pure translation of a JobSpec into Spark on YARN: the properties and the spark-submit argv cms runs on a hadoop
 * cluster's head. Every driver runs in the cluster (YARN runs Python drivers in the ApplicationMaster's container,
 * which standalone Spark cannot); `retries` are YARN's own ApplicationMaster attempts and `priority` YARN's
 * application priority. No I/O: the engine stages the files first and passes their paths on the head in.
 */
import {sparkProperties, sparkSubmitArgv} from './spark-translate.js'
import type {JobSpec} from './spec.js'

/** The spec's priority range (0..1000). */
export const SPEC_MAX_PRIORITY = 1000

/**
 * The spec's priority (0..1000) on YARN's scale (0..max, higher runs first): rounded up, so that any priority
 * above the default 0 stays above it, and 1000 is the cluster's maximum.
 */
export function yarnPriority(priority: number, max: number): number {
  if (!Number.isInteger(max) || max < 0) throw new Error(`invalid maximum YARN priority ${max}`)
  const p = Math.min(Math.max(priority, 0), SPEC_MAX_PRIORITY)
  return Math.min(max, Math.ceil((p * max) / SPEC_MAX_PRIORITY))
}

/** A YARN application tag naming the cms job (YARN keeps tags lowercased, at most 100 characters). */
export function jobTag(jobId: string): string {
  return `cms-job-${jobId}`.toLowerCase().slice(0, 100)
}

export interface YarnSubmitInput {
  jobId: string
  /** The app and the spec's jars/files/pyFiles as staged on the head (or the original URLs), in spec order. */
  appPath: string
  remoteJars: string[]
  remoteFiles: string[]
  remotePyFiles: string[]
  /** The cluster's highest application priority (yarn.cluster.max-application-priority). */
  maxPriority: number
  /** The most ApplicationMaster attempts the ResourceManager allows (yarn.resourcemanager.am.max-attempts). */
  maxAttempts: number
  /** Properties cms derives beyond the spec's fields (S3A's); the spec's `conf` still wins over them. */
  extra?: Record<string, string>
}

/** `spark.yarn.appMasterEnv.K` for each variable: the driver's environment on YARN (it runs in the ApplicationMaster). */
export function appMasterEnvProperties(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [`spark.yarn.appMasterEnv.${k}`, v]))
}

/**
 * Spark properties for YARN: sparkProperties' resources and lists, then what differs on YARN: cluster deploy mode
 * for every app, the spec's env for the driver too (it runs in the ApplicationMaster: spark.yarn.appMasterEnv),
 * no spark.cores.max (standalone's cap; YARN counts executors), attempts, priority and a tag naming the job.
 * The user's `conf` still wins over everything derived from fields.
 */
export function yarnSparkProperties(spec: JobSpec, input: YarnSubmitInput): Record<string, string> {
  const p = sparkProperties(spec, {masterUrl: 'yarn', appResource: input.appPath, remoteJars: input.remoteJars, remoteFiles: input.remoteFiles, remotePyFiles: input.remotePyFiles, extra: input.extra})
  p['spark.submit.deployMode'] = 'cluster'
  delete p['spark.cores.max']
  Object.assign(p, appMasterEnvProperties(spec.env))
  p['spark.yarn.maxAppAttempts'] = String(Math.min(spec.retries + 1, input.maxAttempts))
  p['spark.yarn.priority'] = String(yarnPriority(spec.priority, input.maxPriority))
  p['spark.yarn.tags'] = jobTag(input.jobId)
  return {...p, ...spec.conf}
}

/** The spark-submit argv (after the program name) for a job on YARN, in cluster deploy mode. */
export function yarnSubmitArgv(spec: JobSpec, input: YarnSubmitInput): string[] {
  return sparkSubmitArgv(spec, yarnSparkProperties(spec, input), {appPath: input.appPath, deployMode: 'cluster'})
}
