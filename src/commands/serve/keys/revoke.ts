import {Args} from '@oclif/core'
import {CmsCommand} from '../../../cli/base-command.js'
import {serveDb, serveDbFlag} from '../../../cli/serve-flags.js'
import {revokeKey} from '../../../serve/key-admin.js'

export default class ServeKeysRevoke extends CmsCommand {
  static summary = 'Revoke an API key of cms serve: requests with it get 401 from then on.'
  static args = {name: Args.string({description: 'Key name.', required: true})}
  static flags = {db: serveDbFlag}

  async run(): Promise<{name: string; revoked: true}> {
    const {flags, args} = await this.parse(ServeKeysRevoke)
    const result = await revokeKey(serveDb(flags.db), args.name)
    this.log(`revoked ${result.name}`)
    return result
  }
}
