import {Flags} from '@oclif/core'
import {localPaths} from '../config/paths.js'

/** Where `cms serve` and `cms serve keys` find the service's database. */
export const serveDbFlag = Flags.string({
  description: 'The service\'s database: a SQLite file, or a postgres:// URL. [default: $CMS_HOME/serve.db]',
  env: 'CMS_SERVE_DB',
})

export function serveDb(flag: string | undefined): string {
  return flag ?? localPaths.serveDb()
}
