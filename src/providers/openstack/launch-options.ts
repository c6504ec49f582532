import {formatDuration, parseDuration} from '../../cluster/max-age.js'
import {UsageError} from '../../remote/errors.js'
import {isIpv4Cidr} from '../aws/security-group-rules.js'
import type {CloudLaunchOptions, EngineNeeds} from '../provider.js'
import {loginUserFor} from '../login-user.js'
import type {OpenStackLaunchFlags} from './flags.js'

/** Names and ids of flavors, images and networks: printable, no control characters, at most 255 (OpenStack's limit). */
const RESOURCE_RE = /^[^\u0000-\u001f\u007f]{1,255}$/
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/

/** `create -p openstack`'s flags, checked before anything is asked of the cloud or made. */
export function validateOpenStackLaunch(opts: OpenStackLaunchFlags, engine?: EngineNeeds): CloudLaunchOptions {
  const bad = (flag: string, value: unknown, expected: string) => new UsageError(`invalid ${flag} ${JSON.stringify(value)}: ${expected}`)
  for (const [flag, value] of [['--flavor', opts.flavor], ['--image', opts.image], ['--network', opts.network], ['--floating-ip', opts.floatingIp]] as const) {
    if (value !== undefined && (!RESOURCE_RE.test(value) || value.trim() !== value)) throw bad(flag, value, 'expected a name or an id')
  }
  if (opts.sshCidr !== undefined && !isIpv4Cidr(opts.sshCidr)) throw bad('--ssh-cidr', opts.sshCidr, 'expected an IPv4 CIDR like 203.0.113.7/32')
  // The hosts are reached from outside their network: who may reach SSH there cannot be guessed from it.
  if (opts.floatingIp !== undefined && opts.sshCidr === undefined) throw new UsageError('--floating-ip needs --ssh-cidr: the addresses this machine connects from, like 203.0.113.7/32')
  if (opts.sshUser !== undefined && !USER_RE.test(opts.sshUser)) throw bad('--ssh-user', opts.sshUser, 'expected a Unix user name like debian')
  const maxAge = opts.maxAge === undefined ? undefined : formatDuration(parseDuration(opts.maxAge))
  return {
    flavor: opts.flavor,
    image: opts.image,
    network: opts.network,
    floatingNetwork: opts.floatingIp,
    sshCidr: opts.sshCidr,
    sshUser: loginUserFor(engine, opts.sshUser),
    maxAge,
  }
}
