import {CmsCommand} from '../../../cli/base-command.js'
import {scheduleTarget, serveDbFlag, serveUrlFlag} from '../../../cli/serve-flags.js'
import {table} from '../../../output/table.js'
import {openScheduleClient} from '../../../serve/schedule-client.js'
import type {ScheduleView} from '../../../serve/schedules/schedules.js'

export default class ServeScheduleList extends CmsCommand {
  static summary = 'List the scheduled jobs of cms serve with their next and last runs.'
  static flags = {db: serveDbFlag, url: serveUrlFlag}

  async run(): Promise<{schedules: ScheduleView[]}> {
    const {flags} = await this.parse(ServeScheduleList)
    const client = await openScheduleClient(scheduleTarget(flags, this.runOptions(flags)))
    try {
      const result = await client.list()
      this.log(
        table(
          ['NAME', 'CRON', 'TIME ZONE', 'CONCURRENCY', 'NEXT RUN', 'LAST RUN', 'LAST TASK', 'NOTE'],
          result.schedules.map((s) => [s.name, s.cron, s.timeZone, s.concurrency, s.suspend ? 'suspended' : (s.nextRunAt ?? 'never'), s.lastRunAt ?? '', s.lastTaskId ?? '', s.lastNote ?? '']),
        ),
      )
      return result
    } finally {
      await client.close()
    }
  }
}
