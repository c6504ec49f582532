import {Flags} from '@oclif/core'
import type {RunOptions} from '../cluster/context.js'
import type {ScheduleTarget} from '../serve/schedule-client.js'
import {localPaths} from '../config/paths.js'

/** Where `cms serve` and `cms serve keys` find the service's database. */
export const serveDbFlag = Flags.string({
  description: 'The service\'s database: a SQLite file, or a postgres:// URL. [default: $CMS_HOME/serve.db]',
  env: 'CMS_SERVE_DB',
})

export function serveDb(flag: string | undefined): string {
  return flag ?? localPaths.serveDb()
}

/** `cms serve schedule ...`: a server to talk to instead of the database (the key from CMS_SERVE_KEY). */
export const serveUrlFlag = Flags.string({
  description: 'A running cms serve (http(s)://HOST:PORT) to ask instead of the database; the API key comes from $CMS_SERVE_KEY.',
  exclusive: ['db'],
})

/** Where `cms serve schedule ...` works: the server at --url, else the database. */
export function scheduleTarget(flags: {url?: string; db?: string}, run: RunOptions): ScheduleTarget {
  return flags.url ? {url: flags.url, key: process.env.CMS_SERVE_KEY} : {db: serveDb(flags.db), dataDir: localPaths.serveDataDir(), run}
}
