import {Args} from '@oclif/core'
import {CmsCommand} from '../../../cli/base-command.js'
import {scheduleTarget, serveDbFlag, serveUrlFlag} from '../../../cli/serve-flags.js'
import {openScheduleClient} from '../../../serve/schedule-client.js'

export default class ServeScheduleRm extends CmsCommand {
  static summary = 'Remove a scheduled job from cms serve (its runs stay tasks).'
  static args = {name: Args.string({description: 'Schedule name.', required: true})}
  static flags = {db: serveDbFlag, url: serveUrlFlag}

  async run(): Promise<{name: string; deleted: true}> {
    const {args, flags} = await this.parse(ServeScheduleRm)
    const client = await openScheduleClient(scheduleTarget(flags, this.runOptions(flags)))
    try {
      const result = await client.remove(args.name)
      this.log(`Schedule ${result.name} removed.`)
      return result
    } finally {
      await client.close()
    }
  }
}
