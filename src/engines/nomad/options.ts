import {Flags} from '@oclif/core'
import {UsageError} from '../../remote/errors.js'
import type {EngineOptions} from '../engine.js'
import {checkSparkDistSource} from '../spark/dist.js'
import {sparkDistFlag} from '../spark/options.js'
import {checkNomadDistSource, NOMAD_VERSION} from './dist.js'
import {checkHdfsOptions, hadoopDistFlag, hdfsFlag} from '../hadoop/flags.js'

const nomadDistFlag = Flags.string({
  description: `nomad: Nomad release archive, a path or URL (.zip as released, .tgz) [default: $CMS_NOMAD_DIST, else the official Nomad ${NOMAD_VERSION} linux_amd64 release].`,
})

export const nomadFlags = {
  'nomad-dist': nomadDistFlag,
  servers: Flags.integer({description: 'nomad: how many hosts run a Nomad server (1, or 3 for a Raft quorum), the head first [default: 1].'}),
  'spark-dist': sparkDistFlag,
  hdfs: hdfsFlag,
  'hadoop-dist': hadoopDistFlag,
}

export const nomadAddFlags = {
  'nomad-dist': Flags.string({description: 'nomad: Nomad release archive [default: the one the cluster runs, from its head].'}),
}

/**
 * --spark-dist is optional on Nomad: without it the cluster runs native jobs only; with it, portable job specs
 * run as Spark applications in Nomad tasks.
 */
export function checkNomadOptions(options: EngineOptions, ctx: {adding: boolean}): void {
  const servers = options.servers
  if (servers !== undefined && servers !== 1 && servers !== 3) throw new UsageError(`invalid --servers ${servers}: use 1, or 3 for a Raft quorum`)
  if (options['nomad-dist'] !== undefined || !ctx.adding) checkNomadDistSource(options['nomad-dist'] as string | undefined)
  if (options['spark-dist'] !== undefined) checkSparkDistSource(options['spark-dist'] as string)
  checkHdfsOptions(options)
}
