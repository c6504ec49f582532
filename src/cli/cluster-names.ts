import {listClusterNames} from '../cluster/list.js'
import {accessFileNames} from '../config/access.js'

/**
 * Cluster names for shell completion, bounded in time: what the providers know right now, or, when they do not
 * answer within `ms` (a hung Docker engine), the names of this machine's access files. Never prints or prompts.
 */
export async function clusterNamesWithin(ms: number): Promise<{names: string[]; timedOut: boolean}> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
  })
  const names = await Promise.race([listClusterNames({log: () => {}}).catch(() => localNames()), timeout])
  clearTimeout(timer)
  return names ? {names, timedOut: false} : {names: localNames(), timedOut: true}
}

function localNames(): string[] {
  try {
    return accessFileNames().sort()
  } catch {
    return []
  }
}
