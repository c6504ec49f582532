import {Flags} from '@oclif/core'
import {CmsCommand} from '../../../cli/base-command.js'
import {serveDb, serveDbFlag} from '../../../cli/serve-flags.js'
import {createKey} from '../../../serve/key-admin.js'

export default class ServeKeysCreate extends CmsCommand {
  static summary = 'Create an API key for cms serve; the key is printed this once and stored only as a hash.'
  static examples = ['<%= config.bin %> <%= command.id %> --name airflow --scope submit']
  static flags = {
    name: Flags.string({description: 'Key name (the actor in the audit trail).', required: true}),
    scope: Flags.string({description: 'read: look; submit: also queue, cancel, rerun; admin: also manage keys.', required: true, options: ['read', 'submit', 'admin']}),
    db: serveDbFlag,
  }

  async run(): Promise<{name: string; scope: string; key: string}> {
    const {flags} = await this.parse(ServeKeysCreate)
    const created = await createKey(serveDb(flags.db), flags.name, flags.scope)
    this.log(created.key)
    this.logToStderr(`Key ${created.name} (${created.scope}) created; it is shown only now.`)
    return created
  }
}
