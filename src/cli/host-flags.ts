import {Flags} from '@oclif/core'
import {HOST_ROLES} from '../providers/provider.js'

/** `--hosts` of the commands that work on some hosts of a cluster (run, copy): roles or hosts. */
export const hostsSelectorFlag = Flags.string({
  description: `Only these hosts: a role (${HOST_ROLES.join(', ')}) or a host as 'cms cluster info' names it, or its address; repeatable or comma-separated [default: every host].`,
  multiple: true,
  multipleNonGreedy: true,
})
