import {Args, Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {killJob} from '../../cluster/job-ops.js'
import {renderJob} from '../../output/render-jobs.js'
import type {JobView} from '../../output/results.js'

export default class JobKillCommand extends CmsCommand {
  static summary = 'Stop a running job (and its remaining retries); --purge also removes it from the engine (Nomad, Kubernetes).'
  static description = "spark: stops the job's runner on the head and kills a cluster-mode driver through the master's REST API; nomad: stops the job (--purge: as nomad job stop -purge); kubernetes: deletes the Job or Pod (--purge: waits until it and its pods are gone); hadoop: sets the YARN application's state to KILLED. Returns once the engine reports the job ended."
  static examples = ['<%= config.bin %> <%= command.id %> -n demo pi-20261122-101500-3f2a']
  static args = {id: Args.string({description: 'Job id.', required: true})}
  static flags = {
    name: clusterNameFlag,
    purge: Flags.boolean({description: 'also purge the job from the cluster: Nomad as `nomad job stop -purge`; Kubernetes deletes in the foreground and returns once its pods are gone.', default: false}),
  }

  async run(): Promise<JobView> {
    const {flags, args} = await this.parse(JobKillCommand)
    const job = await killJob(flags.name, args.id, {purge: flags.purge}, this.runOptions(flags))
    this.log(renderJob(job))
    if (job.state !== 'KILLED') this.logToStderr(`Job ${job.id} ended as ${job.state} before it could be killed.`)
    return job
  }
}
