import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {listJobs} from '../../cluster/job-ops.js'
import {renderJobList} from '../../output/render-jobs.js'
import type {JobList} from '../../output/results.js'

export default class JobListCommand extends CmsCommand {
  static summary = "List a cluster's jobs, running and finished, with their live state and the master's applications."
  static examples = ['<%= config.bin %> <%= command.id %> -n demo', '<%= config.bin %> <%= command.id %> -n demo --json']
  static flags = {name: clusterNameFlag}

  async run(): Promise<JobList> {
    const {flags} = await this.parse(JobListCommand)
    const list = await listJobs(flags.name, this.runOptions(flags))
    this.log(renderJobList(list))
    return list
  }
}
