import {homedir} from 'node:os'
import {join} from 'node:path'

/**
 * cms's local directory holds access files only: how to reach a cluster's head and the host keys seen.
 * Never membership or status; those come from the provider and the engine. CMS_HOME overrides it (tests use it).
 */
export function cmsHome(): string {
  return process.env.CMS_HOME || join(homedir(), '.cms')
}

export const localPaths = {
  knownHosts: () => join(cmsHome(), 'known_hosts'),
  accessDir: () => join(cmsHome(), 'access'),
  accessFile: (cluster: string) => join(cmsHome(), 'access', `${cluster}.json`),
  keyFile: (cluster: string) => join(cmsHome(), 'keys', cluster),
  /** cms serve's own database (SQLite) and data (uploaded files): the service's facts, not a cluster's. */
  serveDb: () => join(cmsHome(), 'serve.db'),
  serveDataDir: () => join(cmsHome(), 'serve'),
  distCache: () => process.env.CMS_DIST_CACHE || join(homedir(), '.cache', 'cms', 'dist'),
}
