import {Args, Flags} from '@oclif/core'
import {parse as parseYaml} from 'yaml'
import {CmsCommand} from '../../../cli/base-command.js'
import {scheduleTarget, serveDbFlag, serveUrlFlag} from '../../../cli/serve-flags.js'
import {readLocalFile} from '../../../jobs/load.js'
import {UsageError} from '../../../remote/errors.js'
import {openScheduleClient} from '../../../serve/schedule-client.js'
import type {ScheduleView} from '../../../serve/schedules/schedules.js'

export default class ServeScheduleAdd extends CmsCommand {
  static summary = 'Add a scheduled job to cms serve: a task queued on a cron expression, in a time zone.'
  static description = `Each run is an ordinary task linked to the schedule. The task is a job spec (--spec, with --cluster) or a whole task as POST /task takes it (--task); its app and files must be URLs (http(s)://, local://, ...), as a schedule has no uploads. Writes to the service's database (a running server picks the schedule up within seconds), or with --url asks a running server.`
  static examples = [
    '<%= config.bin %> <%= command.id %> nightly --cron "0 2 * * *" --time-zone Europe/Berlin --cluster etl --spec nightly.yaml',
    'CMS_SERVE_KEY=... <%= config.bin %> <%= command.id %> hourly --cron @hourly --task task.json --concurrency forbid --url https://cms.example:8443',
  ]
  static args = {name: Args.string({description: 'Schedule name.', required: true})}
  static flags = {
    cron: Flags.string({description: 'Cron expression: minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, @monthly, @yearly.', required: true}),
    'time-zone': Flags.string({description: 'IANA time zone the expression is read in.', default: 'UTC'}),
    spec: Flags.string({description: 'Job spec file (YAML or JSON) each run submits.', exclusive: ['task']}),
    cluster: Flags.string({description: 'Cluster the runs go to (with --spec; repeat for fallbacks in order).', multiple: true}),
    task: Flags.string({description: 'Task file (JSON or YAML) as POST /task takes it.', exclusive: ['spec', 'cluster']}),
    priority: Flags.integer({description: 'Priority of each run (0-1000).', min: 0, max: 1000}),
    retries: Flags.integer({description: 'Retries of each run (0-10).', min: 0, max: 10}),
    concurrency: Flags.string({description: 'While the previous run is still active: allow another, forbid (skip this one), replace (kill it first).', options: ['allow', 'forbid', 'replace'], default: 'allow'}),
    suspend: Flags.boolean({description: 'Add it suspended (no runs until replaced with suspend off).'}),
    history: Flags.integer({description: 'Finished runs kept.', min: 0, max: 1000}),
    db: serveDbFlag,
    url: serveUrlFlag,
  }

  async run(): Promise<ScheduleView> {
    const {args, flags} = await this.parse(ServeScheduleAdd)
    let task: Record<string, unknown>
    if (flags.task) {
      task = readDocument(flags.task)
    } else if (flags.spec) {
      if (!flags.cluster?.length) throw new UsageError('--cluster is required with --spec')
      task = {cluster: flags.cluster.length === 1 ? flags.cluster[0] : flags.cluster, spec: readDocument(flags.spec)}
    } else {
      throw new UsageError('give the job: --spec FILE with --cluster NAME, or --task FILE')
    }
    if (flags.priority !== undefined) task.priority = flags.priority
    if (flags.retries !== undefined) task.retries = flags.retries
    const body = {name: args.name, cron: flags.cron, timeZone: flags['time-zone'], task, concurrency: flags.concurrency, suspend: flags.suspend, ...(flags.history !== undefined ? {history: flags.history} : {})}
    const client = await openScheduleClient(scheduleTarget(flags, this.runOptions(flags)))
    try {
      const view = await client.add(body)
      this.log(`Schedule ${view.name} added: ${view.cron} (${view.timeZone})${view.nextRunAt ? `, next run ${view.nextRunAt}` : ', suspended'}`)
      return view
    } finally {
      await client.close()
    }
  }
}

function readDocument(path: string): Record<string, unknown> {
  let doc: unknown
  try {
    doc = parseYaml(readLocalFile(path))
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${path}: not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`${path}: expected a mapping (an object)`)
  return doc as Record<string, unknown>
}
