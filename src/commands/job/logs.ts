import {Args, Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {jobLogs} from '../../cluster/job-ops.js'
import type {JobView} from '../../output/results.js'

export default class JobLogsCommand extends CmsCommand {
  static summary = "Print a job's driver output (its latest attempt); -f follows it until the job ends."
  static description = "Cluster-mode drivers write on the worker that ran them: cms reads stdout and stderr from there (driver stdout to stdout, stderr to stderr). Client-mode (Python) drivers write one log on the head."
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
