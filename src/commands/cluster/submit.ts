import {Args, Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {s3OptionsOf, s3StoreFlags} from '../../cli/s3-flags.js'
import {submitJobs} from '../../cluster/submit.js'
import {renderJobs} from '../../output/render-jobs.js'
import type {SubmitReport} from '../../output/results.js'

export default class ClusterSubmit extends CmsCommand {
  static summary = 'Submit jobs to a cluster through the engine’s own API and optionally follow them to the end.'
  static description = `JOBFILE is a job spec (YAML or JSON; see README) or a bare .jar / .py (then --class, --conf and -- ARGS fill in the rest), which every engine runs; or a native jobfile the engine takes as it is: a Nomad jobfile (.hcl/.nomad, with --var and --var-file) or a Kubernetes manifest. spark: JVM apps go through the master's REST API in cluster deploy mode, Python apps run with spark-submit in client mode on the head; nomad: a batch job through Nomad's HTTP API; kubernetes: a Job through the Kubernetes API; hadoop: Spark on YARN in cluster mode (a MapReduce .jar as with hadoop jar). What a job needs is uploaded first. Several jobfiles are submitted concurrently. Prints one job id per line. With --wait, exits 0 only if every job succeeded.`
  static examples = [
    {description: 'A spec file, waiting for the result (CI, Airflow BashOperator)', command: '<%= config.bin %> <%= command.id %> -n demo jobs/etl.yaml --wait'},
    {description: 'A bare jar', command: '<%= config.bin %> <%= command.id %> -n demo app.jar --class com.example.Main --conf spark.executor.memory=1g -- 2026-11-01 in/ out/'},
    {description: 'A Nomad jobfile with a variable', command: '<%= config.bin %> <%= command.id %> -n jobs batch.hcl --var count=4'},
    {description: 'A Kubernetes manifest, waiting for its Jobs', command: '<%= config.bin %> <%= command.id %> -n k8s job.yaml --wait'},
    {description: 'A Python app', command: '<%= config.bin %> <%= command.id %> -n demo pi.py -- 10'},
    {description: 'A MapReduce jar on a Hadoop cluster (runs as with hadoop jar)', command: '<%= config.bin %> <%= command.id %> -n lake wordcount.jar --class org.example.WordCount -- /data/in /data/out'},
    {description: 'A job reading s3a:// paths on an S3-compatible store (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --s3-profile; never printed)', command: '<%= config.bin %> <%= command.id %> -n demo etl.py --s3-endpoint http://10.0.0.5:9000 -- s3a://in/data s3a://out/result'},
  ]
  static strict = false
  static args = {jobfile: Args.string({description: 'Job spec (.yaml/.yml/.json) or app (.jar/.py); several allowed.', required: true})}
  static flags = {
    name: clusterNameFlag,
    wait: Flags.boolean({char: 'w', description: 'Follow every job to its end; exit 0 only if all succeeded.', default: false}),
    class: Flags.string({description: 'Main class of a bare .jar.'}),
    conf: Flags.string({description: 'Spark property k=v (repeatable).', multiple: true}),
    var: Flags.string({description: 'Nomad HCL jobfiles: input variable NAME=VALUE (repeatable), as `nomad job run -var`.', multiple: true}),
    'var-file': Flags.string({description: 'Nomad HCL jobfiles: a variables file (repeatable), as `nomad job run -var-file`.', multiple: true}),
    timeout: Flags.integer({description: 'With --wait: give up after this many seconds (exit 1).', default: 86_400, min: 1}),
    ...s3StoreFlags,
    s3: Flags.boolean({description: 'Pass S3 credentials even when no s3a:// path appears in the spec (the app builds its paths itself).', helpGroup: 'S3'}),
  }

  async run(): Promise<SubmitReport> {
    const {flags, argv} = await this.parse(ClusterSubmit)
    const dashdash = this.argv.indexOf('--')
    const appArgs = dashdash >= 0 ? this.argv.slice(dashdash + 1) : undefined
    const files = (argv as string[]).slice(0, appArgs ? argv.length - appArgs.length : argv.length)
    const report = await submitJobs(
      {
        name: flags.name,
        files,
        overrides: {mainClass: flags.class, conf: flags.conf, args: appArgs, vars: flags.var, varFiles: flags['var-file']},
        wait: flags.wait,
        waitTimeoutMs: flags.timeout * 1000,
        s3: {...s3OptionsOf(flags), force: flags.s3},
      },
      this.runOptions(flags),
    )
    if (report.waited) {
      this.log(renderJobs(report.jobs))
      if (!report.ok) this.failWith(1)
    } else {
      for (const job of report.jobs) this.log(job.id)
    }
    return report
  }
}
