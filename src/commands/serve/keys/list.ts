import {CmsCommand} from '../../../cli/base-command.js'
import {serveDb, serveDbFlag} from '../../../cli/serve-flags.js'
import {listKeys, type KeyView} from '../../../serve/key-admin.js'
import {table} from '../../../output/table.js'

export default class ServeKeysList extends CmsCommand {
  static summary = 'List the API keys of cms serve (names, scopes, dates; never the keys).'
  static flags = {db: serveDbFlag}

  async run(): Promise<{keys: KeyView[]}> {
    const {flags} = await this.parse(ServeKeysList)
    const result = await listKeys(serveDb(flags.db))
    this.log(table(['NAME', 'SCOPE', 'CREATED', 'REVOKED'], result.keys.map((k) => [k.name, k.scope, k.createdAt, k.revokedAt ?? ''])))
    return result
  }
}
