import {Flags} from '@oclif/core'
import type {EngineOptions} from '../engine.js'
import {checkSparkDistSource} from '../spark/dist.js'
import {sparkDistFlag} from '../spark/options.js'
import {checkHadoopDistSource} from './dist.js'
import {hadoopDistFlag} from './flags.js'

export const hadoopFlags = {
  'hadoop-dist': hadoopDistFlag,
  'head-compute': Flags.string({
    description: 'hadoop: whether the head also runs a DataNode and a NodeManager [default: true].',
    options: ['true', 'false'],
  }),
  'spark-dist': sparkDistFlag,
}

export const hadoopAddFlags = {
  'hadoop-dist': Flags.string({description: 'hadoop: Hadoop runtime archive [default: the one the cluster runs, from its head].'}),
}

/** Spark is shipped beside Hadoop (jobs run as Spark on YARN), so its source is checked as on Spark clusters. */
export function checkHadoopOptions(options: EngineOptions, ctx: {adding: boolean}): void {
  if (options['hadoop-dist'] !== undefined || !ctx.adding) checkHadoopDistSource(options['hadoop-dist'] as string | undefined)
  if (options['spark-dist'] !== undefined || !ctx.adding) checkSparkDistSource(options['spark-dist'] as string | undefined)
}
