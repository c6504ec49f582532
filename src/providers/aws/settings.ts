import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {UsageError} from '../../remote/errors.js'

/** How cms reaches instances: their public address, or their private one (a bastion, a VPN, CI inside the VPC). */
export type ConnectVia = 'public' | 'private'

/** What the user asked for on the command line (every field optional). */
export interface AwsOptions {
  region?: string
  profile?: string
  connect?: string
}

/** What a cluster's access file records, so later commands find it in the same region without flags. */
export interface AwsAccess {
  region: string
  profile?: string
  connect?: ConnectVia
}

export interface AwsSettings {
  region: string
  /** Named profile of ~/.aws/config and ~/.aws/credentials; undefined: the SDK's default chain. */
  profile?: string
  connect: ConnectVia
}

// us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1, ap-southeast-7, il-central-1 ...
const REGION_RE = /^[a-z]{2}(-[a-z0-9]+){1,3}-\d{1,2}$/
const PROFILE_RE = /^[A-Za-z0-9_.+@-]{1,128}$/

type Env = Record<string, string | undefined>

/** The region a named profile sets in an AWS config file (`[default]` or `[profile NAME]`), like the aws cli. */
export function profileRegion(configText: string, profile: string): string | undefined {
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`]
  let inSection = false
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '')
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[\s*(.+?)\s*\]\s*$/.exec(line)
    if (section) {
      inSection = wanted.includes(section[1].replace(/\s+/g, ' '))
      continue
    }
    if (!inSection || raw !== line) continue // indented lines are nested settings (s3 = ...)
    const kv = /^region\s*=\s*(\S+)\s*$/.exec(line)
    if (kv) return kv[1]
  }
  return undefined
}

function configFileRegion(profile: string, env: Env): string | undefined {
  const file = env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config')
  try {
    return profileRegion(readFileSync(file, 'utf8'), profile)
  } catch {
    return undefined
  }
}

function checkRegion(region: string, source: string): string {
  if (!REGION_RE.test(region)) throw new UsageError(`invalid AWS region ${JSON.stringify(region)} (from ${source}): expected a name like us-east-1`)
  return region
}

function connectVia(value: string | undefined, source: string): ConnectVia | undefined {
  if (value === undefined || value === '') return undefined
  if (value === 'public' || value === 'private') return value
  throw new UsageError(`invalid ${source} ${JSON.stringify(value)}: expected public or private`)
}

/**
 * Region: --region, then the region the cluster was created in (its access file), then AWS_REGION,
 * AWS_DEFAULT_REGION (as the aws cli reads it; the JS SDK alone does not) and the profile's region in
 * ~/.aws/config. Profile: --profile, the recorded one, AWS_PROFILE. Connect: --connect, CMS_AWS_CONNECT, the
 * recorded one, public. Undefined when no region can be found.
 */
export function findAwsSettings(opts: AwsOptions, recorded?: AwsAccess, env: Env = process.env): AwsSettings | undefined {
  const profile = opts.profile || recorded?.profile || env.AWS_PROFILE || undefined
  if (profile !== undefined && !PROFILE_RE.test(profile)) throw new UsageError(`invalid AWS profile name ${JSON.stringify(profile)}`)
  const connect = connectVia(opts.connect, '--connect') ?? connectVia(env.CMS_AWS_CONNECT, 'CMS_AWS_CONNECT') ?? recorded?.connect ?? 'public'
  let region: string | undefined
  if (opts.region) region = checkRegion(opts.region, '--region')
  else if (recorded?.region) region = checkRegion(recorded.region, 'the cluster access file')
  else if (env.AWS_REGION) region = checkRegion(env.AWS_REGION, 'AWS_REGION')
  else if (env.AWS_DEFAULT_REGION) region = checkRegion(env.AWS_DEFAULT_REGION, 'AWS_DEFAULT_REGION')
  else {
    const fromFile = configFileRegion(profile ?? 'default', env)
    if (fromFile) region = checkRegion(fromFile, `profile ${profile ?? 'default'} in ~/.aws/config`)
  }
  return region === undefined ? undefined : {region, profile, connect}
}

export function requireAwsSettings(opts: AwsOptions, recorded?: AwsAccess, env: Env = process.env): AwsSettings {
  const settings = findAwsSettings(opts, recorded, env)
  if (!settings) {
    throw new UsageError('no AWS region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or set a region in your profile (aws configure)')
  }
  return settings
}

/** Only explicit choices (flags) make an AWS failure fatal for commands that also list other providers. */
export function awsExplicit(opts: AwsOptions | undefined): boolean {
  return Boolean(opts?.region || opts?.profile)
}
