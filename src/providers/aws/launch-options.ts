import {formatDuration, parseDuration} from '../../cluster/max-age.js'
import {UsageError} from '../../remote/errors.js'
import type {CloudLaunchOptions, EngineNeeds} from '../provider.js'
import {loginUserFor} from '../login-user.js'
import {isIpv4Cidr} from './security-group-rules.js'

const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/
const AMI_RE = /^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$/
const SUBNET_RE = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/

/**
 * Checks the aws flags (with what the engine needs of a host) before anything is asked of AWS or made; returns them
 * normalized (max age as 1h30m, root as the login for an engine that needs it).
 */
export function validateLaunchOptions(opts: CloudLaunchOptions, engine?: EngineNeeds): CloudLaunchOptions {
  const bad = (flag: string, value: unknown, expected: string) => new UsageError(`invalid ${flag} ${JSON.stringify(value)}: ${expected}`)
  for (const [flag, value] of [['--instance-type', opts.instanceType], ['--head-instance-type', opts.headInstanceType]] as const) {
    if (value !== undefined && !INSTANCE_TYPE_RE.test(value)) throw bad(flag, value, 'expected an EC2 instance type like m6i.large')
  }
  if (opts.image !== undefined && !AMI_RE.test(opts.image)) throw bad('--ami', opts.image, 'expected an image id like ami-0123456789abcdef0')
  if (opts.subnet !== undefined && !SUBNET_RE.test(opts.subnet)) throw bad('--subnet', opts.subnet, 'expected a subnet id like subnet-0123456789abcdef0')
  if (opts.volumeSizeGb !== undefined && (!Number.isInteger(opts.volumeSizeGb) || opts.volumeSizeGb < 8 || opts.volumeSizeGb > 16_384)) {
    throw bad('--volume-size', opts.volumeSizeGb, 'expected GiB from 8 to 16384')
  }
  if (opts.sshCidr !== undefined && !isIpv4Cidr(opts.sshCidr)) throw bad('--ssh-cidr', opts.sshCidr, 'expected an IPv4 CIDR like 203.0.113.7/32')
  if (opts.sshUser !== undefined && !USER_RE.test(opts.sshUser)) throw bad('--ssh-user', opts.sshUser, 'expected a Unix user name like admin')
  const maxAge = opts.maxAge === undefined ? undefined : formatDuration(parseDuration(opts.maxAge))
  const sshUser = loginUserFor(engine, opts.sshUser)
  return {...opts, ...(maxAge === undefined ? {} : {maxAge}), ...(sshUser === undefined ? {} : {sshUser})}
}

/** The flags given, by name, for the error when they are used with another provider. */
export function launchFlagsGiven(opts: CloudLaunchOptions | undefined): string[] {
  const names: Record<Exclude<keyof CloudLaunchOptions, 'cpus' | 'memoryMb' | 'vm' | 'flavor' | 'network' | 'floatingNetwork'>, string> = {
    instanceType: '--instance-type',
    headInstanceType: '--head-instance-type',
    image: '--ami',
    subnet: '--subnet',
    volumeSizeGb: '--volume-size',
    spot: '--spot',
    sshCidr: '--ssh-cidr',
    sshUser: '--ssh-user',
    maxAge: '--max-age',
  }
  return Object.entries(opts ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k]) => names[k as keyof typeof names])
}
