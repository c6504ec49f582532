import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {listJobs} from '../../cluster/job-ops.js'
import {renderJobList} from '../../output/render-jobs.js'
import type {JobList} from '../../output/results.js'

export default class JobListCommand extends CmsCommand {
  static summary = "List a cluster's jobs, running and finished, with their live state from the engine."
  static description = "spark: the records on the head and the master's applications; nomad: the jobs Nomad's API reports; kubernetes: the Jobs and bare Pods cms applied; hadoop: the YARN applications cms submitted."
  static examples = ['<%= config.bin %> <%= command.id %> -n demo', '<%= config.bin %> <%= command.id %> -n demo --json']
  static flags = {name: clusterNameFlag}

  async run(): Promise<JobList> {
    const {flags} = await this.parse(JobListCommand)
    const list = await listJobs(flags.name, this.runOptions(flags))
    this.log(renderJobList(list))
    return list
  }
}
