import {Flags} from '@oclif/core'
import type {EngineOptions} from '../engine.js'
import {UsageError} from '../../remote/errors.js'
import {checkSparkDistSource} from './dist.js'
import {checkHdfsOptions, hadoopDistFlag, hdfsFlag} from '../hadoop/flags.js'

/** create/add flags of the Spark engine (also how the Nomad engine ships a Spark runtime for portable jobs). */
export const sparkDistFlag = Flags.string({
  description: 'Spark distribution archive, a path or URL (.tgz/.tar) [default: $CMS_SPARK_DIST, else Apache Spark 4.0.1].',
})

export const sparkFlags = {
  'spark-dist': sparkDistFlag,
  'worker-cores': Flags.integer({description: 'spark: cores each worker offers [default: all].', min: 1}),
  'worker-memory': Flags.string({description: 'spark: memory each worker offers, e.g. 4g [default: all but 1 GiB; docker: an equal share of the machine, less 1 GiB].'}),
  hdfs: hdfsFlag,
  'hadoop-dist': hadoopDistFlag,
}

export const sparkAddFlags = {
  'spark-dist': Flags.string({description: 'Spark distribution archive [default: the one the cluster runs, from its head].'}),
}

/** SPARK_WORKER_MEMORY needs a unit: Spark reads a bare number as bytes. */
const WORKER_MEMORY_RE = /^[1-9]\d*[mgt]$/i

export function checkSparkOptions(options: EngineOptions, ctx: {adding: boolean}): void {
  const workerMemory = options['worker-memory']
  if (workerMemory !== undefined && !WORKER_MEMORY_RE.test(String(workerMemory))) {
    throw new UsageError(`invalid --worker-memory ${JSON.stringify(workerMemory)}: use a size with a unit, like 4g or 1500m`)
  }
  if (options['spark-dist'] !== undefined || !ctx.adding) checkSparkDistSource(options['spark-dist'] as string | undefined)
  checkHdfsOptions(options)
}
