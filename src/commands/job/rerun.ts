import {Args} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {rerunJob} from '../../cluster/job-ops.js'
import type {JobView} from '../../output/results.js'

export default class JobRerunCommand extends CmsCommand {
  static summary = 'Submit a job again with the same spec, from its record on the cluster; prints the new id.'
  static description = "No local file is needed: spark submits the record on the head again under a new id; nomad registers the job again as a new version; kubernetes deletes the finished Job or Pod and applies what cms applied again; hadoop submits the application again from the spec recorded on the head."
  static examples = ['<%= config.bin %> <%= command.id %> -n demo pi-20261122-101500-3f2a']
  static args = {id: Args.string({description: 'Job id to run again.', required: true})}
  static flags = {name: clusterNameFlag}

  async run(): Promise<JobView> {
    const {flags, args} = await this.parse(JobRerunCommand)
    const job = await rerunJob(flags.name, args.id, this.runOptions(flags))
    this.log(job.id)
    return job
  }
}
