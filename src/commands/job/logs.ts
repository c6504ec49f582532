import {Args, Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {jobLogs} from '../../cluster/job-ops.js'
import type {JobView} from '../../output/results.js'

export default class JobLogsCommand extends CmsCommand {
  static summary = "Print a job's output (its latest attempt), read where it lives; -f follows it until the job ends."
  static description = "Stdout to stdout, stderr to stderr. spark: a cluster-mode driver's output from the worker that ran it, a client-mode (Python) driver's from the head; nomad: every task of the current allocations through Nomad's logs API; kubernetes: every pod of the Job through the pods' log API; hadoop: the ApplicationMaster's output from its NodeManager, or YARN's aggregated logs once it ended."
  static examples = ['<%= config.bin %> <%= command.id %> -n demo pi-20261122-101500-3f2a', '<%= config.bin %> <%= command.id %> -n demo pi-20261122-101500-3f2a -f']
  static args = {id: Args.string({description: 'Job id.', required: true})}
  static flags = {
    name: clusterNameFlag,
    follow: Flags.boolean({char: 'f', description: 'Keep printing new output until the job ends.', default: false}),
    timeout: Flags.integer({description: 'With -f: stop following after this many seconds.', default: 86_400, min: 1}),
  }

  async run(): Promise<JobView> {
    const {flags, args} = await this.parse(JobLogsCommand)
    return jobLogs(
      flags.name,
      args.id,
      {
        follow: flags.follow,
        timeoutMs: flags.timeout * 1000,
        out: (s) => (this.jsonEnabled() ? undefined : process.stdout.write(s)),
        err: (s) => process.stderr.write(s),
      },
      this.runOptions(flags),
    )
  }
}
