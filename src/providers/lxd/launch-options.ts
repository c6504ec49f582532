import {UsageError} from '../../remote/errors.js'
import type {CloudLaunchOptions, EngineNeeds} from '../provider.js'
import {loginUserFor} from '../login-user.js'

export const DEFAULT_IMAGE_ALIAS = 'cms-debian-12'
/** scripts/lxd-vm-image.sh's image: a UEFI-bootable disk of the same Debian, with a kernel and the Kubernetes node packages. */
export const DEFAULT_VM_IMAGE_ALIAS = 'cms-debian-12-vm'

const MEMORY_RE = /^(\d{1,7})(MiB|GiB|MB|GB)$/
const ALIAS_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

/** `create -p lxd`'s flags as given. */
export interface LxdLaunchInput {
  cpus?: number
  memory?: string
  image?: string
  vm?: boolean
}

/** 2GiB, 512MiB (and MB/GB, read as the binary units LXD's limits.memory takes) as MiB, 64 MiB to 1 TiB. */
export function parseMemory(value: string): number {
  const m = MEMORY_RE.exec(value)
  const mb = m ? Number(m[1]) * (m[2]!.startsWith('G') ? 1024 : 1) : NaN
  if (!m || mb < 64 || mb > 1024 * 1024) throw new UsageError(`invalid --memory ${JSON.stringify(value)}: expected a size like 512MiB or 2GiB, from 64MiB to 1024GiB`)
  return mb
}

/**
 * `create -p lxd`'s flags, checked with what the engine needs before anything is made; undefined fields were not
 * given. An engine whose daemons need root gets root as the login user.
 */
export function validateLxdLaunch(opts: LxdLaunchInput, engine?: EngineNeeds): CloudLaunchOptions {
  if (opts.cpus !== undefined && (!Number.isInteger(opts.cpus) || opts.cpus < 1 || opts.cpus > 256)) {
    throw new UsageError(`invalid --cpus ${opts.cpus}: expected a whole number from 1 to 256`)
  }
  if (opts.image !== undefined && !ALIAS_RE.test(opts.image)) throw new UsageError(`invalid --lxd-image ${JSON.stringify(opts.image)}: expected an image alias like ${DEFAULT_IMAGE_ALIAS}`)
  const sshUser = loginUserFor(engine, undefined)
  return {
    ...(opts.cpus === undefined ? {} : {cpus: opts.cpus}),
    ...(opts.memory === undefined ? {} : {memoryMb: parseMemory(opts.memory)}),
    ...(opts.image === undefined ? {} : {image: opts.image}),
    ...(opts.vm ? {vm: true} : {}),
    ...(sshUser === undefined ? {} : {sshUser}),
  }
}
