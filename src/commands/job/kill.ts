import {Args} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {killJob} from '../../cluster/job-ops.js'
import {renderJob} from '../../output/render-jobs.js'
import type {JobView} from '../../output/results.js'

export default class JobKillCommand extends CmsCommand {
  static summary = 'Stop a running job (and its remaining retries).'
  static examples = ['<%= config.bin %> <%= command.id %> -n demo pi-20261122-101500-3f2a']
  static args = {id: Args.string({description: 'Job id.', required: true})}
  static flags = {name: clusterNameFlag}

  async run(): Promise<JobView> {
    const {flags, args} = await this.parse(JobKillCommand)
    const job = await killJob(flags.name, args.id, this.runOptions(flags))
    this.log(renderJob(job))
    if (job.state !== 'KILLED') this.logToStderr(`Job ${job.id} ended as ${job.state} before it could be killed.`)
    return job
  }
}
