import {DescribeRegionsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {UsageError} from '../../remote/errors.js'
import type {AwsSettings} from './settings.js'

// cms pins the SDK release it is tested with; the SDK's notice about future releases is noise to cms users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** An AWS failure cms can name in one line (missing credentials, an unknown region, a refused call): exit 1. */
export class AwsError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message)
    this.name = 'AwsError'
  }
}

/** EC2 says a value the user gave does not exist (an AMI, an instance type, a subnet, a region): exit 2. */
export class AwsInputError extends UsageError {
  constructor(message: string, readonly code?: string) {
    super(message)
  }
}

type SdkError = Error & {code?: string; $metadata?: {httpStatusCode?: number}; $fault?: string}

const CREDENTIAL_REJECTED = new Set([
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'IncompleteSignature',
  'InvalidAccessKeyId',
  'MissingAuthenticationToken',
])
const CREDENTIAL_EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired'])
const BAD_INPUT = /^(InvalidAMIID|InvalidInstanceType|InvalidSubnetID|InvalidSubnet|InvalidKeyPair\.Format)/
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}

/** Counts of API round trips (every HTTP request, retries included), for `CMS_DEBUG` and the benchmark. */
export interface AwsCallStats {
  total: number
  byCommand: Record<string, number>
}

export const awsCallStats: AwsCallStats = {total: 0, byCommand: {}}

/**
 * One EC2 client per command run, for one region: the SDK's default credential chain (environment, profiles,
 * SSO, web identity, instance roles), AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2 honoured by the SDK itself.
 * Every failure comes out as one line that names the problem.
 */
export class Ec2Api {
  readonly client: EC2Client

  constructor(
    readonly settings: AwsSettings,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.client = new EC2Client({
      region: settings.region,
      ...(settings.profile ? {profile: settings.profile} : {}),
      requestHandler: {connectionTimeout: 10_000, requestTimeout: 60_000},
    })
    const debug = Boolean(process.env.CMS_DEBUG)
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? 'unknown').replace(/Command$/, '')
        awsCallStats.total++
        awsCallStats.byCommand[name] = (awsCallStats.byCommand[name] ?? 0) + 1
        const started = Date.now()
        try {
          return await next(args)
        } finally {
          if (debug) this.log(`aws: ${name} (${Date.now() - started} ms)`)
        }
      },
      {step: 'deserialize', name: 'cmsCallCounter'},
    )
  }

  /** Sends one command; failures become one clear line (see explain). */
  async send<Output>(command: {readonly input: unknown}): Promise<Output> {
    try {
      return (await this.client.send(command as never)) as Output
    } catch (error) {
      throw await this.explain(error as SdkError)
    }
  }

  private endpoint(): string {
    return process.env.AWS_ENDPOINT_URL_EC2 || process.env.AWS_ENDPOINT_URL || `https://ec2.${this.settings.region}.amazonaws.com`
  }

  /** Turns an SDK error into one line. Service errors keep EC2's own code and first sentence. */
  async explain(error: SdkError): Promise<Error> {
    if (error instanceof AwsError || error instanceof AwsInputError) return error
    const {region, profile} = this.settings
    const who = profile ? `profile ${profile}` : 'the default credential chain'
    const name = error.name ?? ''
    if (name === 'CredentialsProviderError' || name === 'ProviderError' || name === 'TokenProviderError') {
      const detail = firstLine(error.message)
      return new AwsError(
        !/from any providers/.test(detail)
          ? `AWS credentials could not be loaded (${who}): ${detail}`
          : profile
            ? `no AWS credentials found for profile ${profile}: check its name in ~/.aws/config and ~/.aws/credentials, or run 'aws configure --profile ${profile}' or 'aws sso login --profile ${profile}'`
            : `no AWS credentials found (${who}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or run 'aws configure' or 'aws sso login'`,
        name,
      )
    }
    if (CREDENTIAL_REJECTED.has(name)) return new AwsError(`AWS rejected the credentials of ${who} (${name}): check the access key or the profile`, name)
    if (CREDENTIAL_EXPIRED.has(name)) return new AwsError(`the AWS credentials of ${who} have expired (${name}): renew them (aws sso login, or new session keys)`, name)
    if (name === 'OptInRequired') return new AwsError(`region ${region} is not enabled for this AWS account (OptInRequired)`, name)
    if (name === 'UnauthorizedOperation') return new AwsError(`not allowed by AWS (${who}): ${firstLine(error.message).replace(/ Encoded authorization failure message:.*$/, '')}`, name)
    const code = error.code ?? (error as {cause?: {code?: string}}).cause?.code
    const status = error.$metadata?.httpStatusCode
    const transport = code !== undefined && UNREACHABLE.has(code)
    // A malformed answer (not EC2's XML) or a host that does not resolve: most often a region EC2 does not have.
    if (transport || (status !== undefined && status >= 500 && !error.$fault) || /XML parse error|Deserialization error/.test(error.message)) {
      const unknown = await this.regionIsUnknown()
      if (unknown) return new AwsInputError(`unknown AWS region ${region}: EC2 does not list it (regions: ${unknown.slice(0, 6).join(', ')}, ...)`, 'UnknownRegion')
      return new AwsError(`cannot reach EC2 for region ${region} at ${this.endpoint()} (${code ?? `HTTP ${status}`}): check --region and the network`, code ?? 'Unreachable')
    }
    if (status !== undefined && BAD_INPUT.test(name)) return new AwsInputError(`EC2 in ${region}: ${name}: ${firstLine(error.message)}`, name)
    if (status !== undefined) return new AwsError(`EC2 refused the request: ${name}: ${firstLine(error.message)}`, name)
    return error
  }

  /** Asks EC2 in a region that always exists which regions there are; the list if ours is not among them. */
  private async regionIsUnknown(): Promise<string[] | undefined> {
    if (this.settings.region === 'us-east-1') return undefined
    try {
      const probe = new EC2Client({region: 'us-east-1', ...(this.settings.profile ? {profile: this.settings.profile} : {}), maxAttempts: 1, requestHandler: {connectionTimeout: 5000, requestTimeout: 10_000}})
      const out = await probe.send(new DescribeRegionsCommand({AllRegions: true}))
      probe.destroy()
      const names = (out.Regions ?? []).map((r) => r.RegionName ?? '').filter(Boolean).sort()
      return names.length > 0 && !names.includes(this.settings.region) ? names : undefined
    } catch {
      return undefined
    }
  }

  destroy(): void {
    this.client.destroy()
  }
}
