/**
 * Pure translation of a JobSpec whose .jar is a MapReduce job into Hadoop properties, added to the job's own copy
 * of mapred-site.xml so that `hadoop jar` semantics hold: the main class runs as a client on the head and whatever
 * jobs it submits read them (a main that does not parse -D options still gets them). No I/O.
 */
import {UsageError} from '../remote/errors.js'
import type {JobSpec} from './spec.js'
import {jobTag, yarnPriority} from './yarn-translate.js'

/** A spec size (512m, 2g, 1024 = MiB) in whole MiB, as YARN counts memory. */
export function memoryMb(size: string): number {
  const m = /^(\d+)([kmgt]?)$/i.exec(size)
  if (!m) throw new Error(`invalid size ${JSON.stringify(size)}`)
  const n = Number(m[1])
  switch (m[2]!.toLowerCase()) {
    case 'k':
      return Math.ceil(n / 1024)
    case 'g':
      return n * 1024
    case 't':
      return n * 1024 * 1024
    default:
      return n
  }
}

export interface MapReduceInput {
  jobId: string
  hadoopHome: string
  /** The spec's jars and files as staged on the head (absolute paths) or their URLs. */
  jars: string[]
  files: string[]
  maxPriority: number
  maxAttempts: number
}

const uri = (p: string) => (p.startsWith('/') ? `file://${p}` : p)

/**
 * The job's properties: its tag (cms finds its applications by it), retries as ApplicationMaster attempts,
 * priority on YARN's scale, driver resources as the ApplicationMaster's and executor resources as each map and
 * reduce task's, jars and files shipped with every task (what -libjars and -files set), and env for the
 * ApplicationMaster and the tasks (next to HADOOP_MAPRED_HOME, which they need). Spark's `conf` does not apply.
 */
export function mapreduceProperties(spec: JobSpec, input: MapReduceInput): Array<[string, string]> {
  const p: Array<[string, string]> = [
    ['mapreduce.job.tags', jobTag(input.jobId)],
    ['mapreduce.job.name', spec.name],
    ['mapreduce.am.max-attempts', String(Math.min(spec.retries + 1, input.maxAttempts))],
    ['mapreduce.job.priority', String(yarnPriority(spec.priority, input.maxPriority))],
  ]
  if (spec.driver.memory !== undefined) p.push(['yarn.app.mapreduce.am.resource.mb', String(memoryMb(spec.driver.memory))])
  if (spec.driver.cores !== undefined) p.push(['yarn.app.mapreduce.am.resource.cpu-vcores', String(spec.driver.cores)])
  for (const task of ['map', 'reduce']) {
    if (spec.executor.memory !== undefined) p.push([`mapreduce.${task}.memory.mb`, String(memoryMb(spec.executor.memory))])
    if (spec.executor.cores !== undefined) p.push([`mapreduce.${task}.cpu.vcores`, String(spec.executor.cores)])
  }
  if (input.jars.length > 0) p.push(['tmpjars', input.jars.map(uri).join(',')])
  if (input.files.length > 0) p.push(['tmpfiles', input.files.map(uri).join(',')])
  for (const [k, v] of Object.entries(spec.env)) {
    if (v.includes(',')) throw new UsageError(`env.${k}: a MapReduce job's environment values cannot contain a comma (Hadoop splits them there)`)
  }
  const env = [`HADOOP_MAPRED_HOME=${input.hadoopHome}`, ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)].join(',')
  for (const key of ['yarn.app.mapreduce.am.env', 'mapreduce.map.env', 'mapreduce.reduce.env']) p.push([key, env])
  return p
}
