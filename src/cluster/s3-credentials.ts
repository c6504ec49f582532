/**
 * S3 credentials at submit time: read from the user's environment or AWS profile only when a job needs them (an
 * s3a:// path in its spec, or --s3), once per submit, held in memory and handed to the engine on the LoadedJob.
 * Nothing here prints or logs a secret: messages name where credentials came from, never what they are.
 */
import type {JobService, LoadedJob} from '../engines/engine.js'
import {checkS3Credentials, checkS3Endpoint, checkS3Region, specChoosesS3Credentials, specUsesS3a, type S3Access, type S3Credentials, type S3Options} from '../jobs/s3.js'
import {findAwsSettings} from '../providers/aws/settings.js'
import {UsageError} from '../remote/errors.js'

type Env = Record<string, string | undefined>

/** Reads credentials for a profile (or the default chain when none): the AWS SDK's own chain, as the aws provider uses. */
export type CredentialsLoader = (profile: string | undefined) => Promise<S3Credentials>

/**
 * The AWS SDK's default credential chain (the one the aws provider's EC2 client uses): with a profile, that
 * profile of ~/.aws/credentials and ~/.aws/config (static keys, SSO, credential_process, assumed roles);
 * without one, the environment, the default profile, then container and instance roles.
 */
export const sdkCredentials: CredentialsLoader = async (profile) => {
  const {defaultProvider} = await import('@aws-sdk/credential-provider-node')
  const c = await defaultProvider(profile ? {profile} : {})()
  return {accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? {sessionToken: c.sessionToken} : {})}
}

export interface ResolvedS3 {
  access: S3Access
  /** Where the credentials came from, for a log line: "AWS_ACCESS_KEY_ID", "profile dev". */
  source: string
}

/**
 * Endpoint: --s3-endpoint, else AWS_ENDPOINT_URL_S3 (the SDKs' own variable for it). Region: --s3-region, else as
 * the aws provider finds one (AWS_REGION, AWS_DEFAULT_REGION, the profile's region in ~/.aws/config). Credentials:
 * AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) when no profile is asked for, else the profile
 * (--s3-profile, else AWS_PROFILE) through the SDK's chain. A missing or unreadable credential is a UsageError
 * that names where cms looked.
 */
export async function resolveS3Access(opts: S3Options, env: Env = process.env, load: CredentialsLoader = sdkCredentials): Promise<ResolvedS3> {
  const endpointSource = opts.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || undefined)
  const endpoint = endpointSource === undefined ? undefined : checkS3Endpoint(endpointSource)
  const profile = opts.profile || env.AWS_PROFILE || undefined
  // Validates the profile's name and finds the region the way `-p aws` does.
  const settings = findAwsSettings({profile}, undefined, env)
  const region = opts.region ? checkS3Region(opts.region, '--s3-region') : settings?.region
  let credentials: S3Credentials
  let source: string
  if (!opts.profile && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    credentials = {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? {sessionToken: env.AWS_SESSION_TOKEN} : {})}
    source = 'AWS_ACCESS_KEY_ID'
  } else {
    source = profile ? `profile ${profile}` : "the AWS SDK's default chain"
    try {
      credentials = await load(profile)
    } catch (error) {
      const detail = ((error as Error).message ?? '').split('\n')[0]
      throw new UsageError(
        profile
          ? `no S3 credentials from profile ${profile} (${detail}): check ~/.aws/credentials, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`
          : `the job reads or writes s3a:// paths but no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --s3-profile NAME (a profile of ~/.aws/credentials)`,
      )
    }
  }
  return {access: {...(endpoint ? {endpoint} : {}), ...(region ? {region} : {}), credentials: checkS3Credentials(credentials)}, source}
}

/**
 * The jobs that get S3 access: specs with an s3a:// location that do not choose their own credentials in `conf`,
 * or every spec with --s3.
 */
export function jobsNeedingS3(jobs: readonly LoadedJob[], opts: S3Options): LoadedJob[] {
  return jobs.filter((j) => j.spec !== undefined && (opts.force || (specUsesS3a(j.spec) && !specChoosesS3Credentials(j.spec))))
}

/**
 * Resolves the credentials once (only when some job needs them) and sets `s3` on each job that does. Refuses when
 * the cluster's job service cannot hand credentials on (an engine without S3 support would run the job without
 * them). `cluster submit` calls it with its flags; the job service's dispatcher with the service's S3 flags, for
 * each task as it is submitted (so the credentials live in the server's memory only, never in its database).
 */
export async function attachS3Access(
  jobs: readonly LoadedJob[],
  service: Pick<JobService, 'takesS3Access'>,
  opts: S3Options,
  log: (line: string) => void,
  env: Env = process.env,
  load: CredentialsLoader = sdkCredentials,
): Promise<void> {
  const needing = jobsNeedingS3(jobs, opts)
  if (needing.length === 0) {
    if (opts.endpoint || opts.region || opts.profile) log('No job names an s3a:// path: --s3-endpoint, --s3-region and --s3-profile are not used (--s3 passes credentials anyway).')
    return
  }
  if (!service.takesS3Access) {
    throw new UsageError(
      `${needing[0]!.file}: this cluster's engine cannot pass S3 credentials to jobs yet (s3a:// paths need them): set spark.hadoop.fs.s3a.aws.credentials.provider in the spec's conf to let the job find its own (an instance role, a public bucket)`,
    )
  }
  const {access, source} = await resolveS3Access(opts, env, load)
  for (const job of needing) job.s3 = access
  log(`S3: credentials from ${source}${access.endpoint ? `, endpoint ${access.endpoint}` : ''}${access.region ? `, region ${access.region}` : ''} (${needing.length} job${needing.length === 1 ? '' : 's'})`)
}
