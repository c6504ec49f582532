import {Args} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {jobStatus} from '../../cluster/job-ops.js'
import {renderJob} from '../../output/render-jobs.js'
import type {JobView} from '../../output/results.js'

export default class JobStatusCommand extends CmsCommand {
  static summary = 'Show one job: its state and every attempt, live from the engine.'
  static description = "spark: state, driver state, where the driver ran, exit code; nomad: each allocation, its node, status and exit code; kubernetes: the Job's conditions and each pod, its node, phase and exit code; hadoop: the YARN application and each ApplicationMaster attempt."
  static examples = ['<%= config.bin %> <%= command.id %> -n demo pi-20261122-101500-3f2a']
  static args = {id: Args.string({description: 'Job id, as printed by submit.', required: true})}
  static flags = {name: clusterNameFlag}

  async run(): Promise<JobView> {
    const {flags, args} = await this.parse(JobStatusCommand)
    const job = await jobStatus(flags.name, args.id, this.runOptions(flags))
    this.log(renderJob(job))
    return job
  }
}
