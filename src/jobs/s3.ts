/**
 * `s3a://bucket/key` in job specs: which specs need S3 credentials, the Spark properties and environment that point
 * S3A at a store and at the credentials, and the credentials file format. Pure: no I/O (the credentials are read at
 * submit time by src/cluster/s3-credentials.ts; each engine decides where they go, see README "How engines run a
 * spec").
 *
 * The one rule every engine follows: a secret (access key id, secret key, session token) never goes into a Spark
 * property, a command line, a job record or a job's plain definition. Spark properties travel in the clear (the REST
 * submission turns them into `-D` options on the driver's command line, `ps` shows them; job.json on the head keeps
 * them; a Nomad job and a Kubernetes Job show them to anyone who may read jobs). So the properties only say *how* S3A
 * finds the credentials:
 *   - `file`: an AWS shared credentials file (0600) that the engine puts where the driver and the executors run;
 *     AWS_SHARED_CREDENTIALS_FILE names it, the AWS SDK's ProfileCredentialsProvider reads it (Spark standalone,
 *     Nomad through a template that renders a Nomad variable into the task's secrets dir, Hadoop/YARN);
 *   - `env`: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in the process environment, filled by the
 *     engine from a secret store (Kubernetes: a Secret referenced with secretKeyRef), read by the SDK's
 *     EnvironmentVariableCredentialsProvider.
 */
import {UsageError} from '../remote/errors.js'
import type {JobSpec} from './spec.js'

/** What the user asked for at submit time (flags); everything optional. */
export interface S3Options {
  /** --s3-endpoint: an S3-compatible store (http://host:port); default: AWS's own endpoints. */
  endpoint?: string
  /** --s3-region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region). */
  region?: string
  /** --s3-profile (else AWS_PROFILE): a profile of ~/.aws/credentials and ~/.aws/config. */
  profile?: string
  /** --s3: pass credentials even when no s3a:// path is in the spec (the app builds its paths itself). */
  force?: boolean
}

export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** What a job that uses S3 gets: where the store is and the credentials (held in memory only). */
export interface S3Access {
  /** A checked http(s) URL, or undefined for AWS itself. */
  endpoint?: string
  region?: string
  credentials: S3Credentials
}

/** How the driver and executors of one engine get the credentials (see the module comment). */
export type S3CredentialsVia = {kind: 'file'; path: string} | {kind: 'env'}

export const S3A_URL_RE = /\bs3a:\/\//i

/** The credentials file's profile; AWS_PROFILE is set to it, so a profile in the hosts' environment cannot win. */
export const S3_PROFILE = 'default'
export const PROFILE_PROVIDER = 'software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider'
export const ENV_PROVIDER = 'software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider'
/** The environment variables of `env` credentials, in the SDK's names. */
export const S3_ENV_KEYS = {accessKeyId: 'AWS_ACCESS_KEY_ID', secretAccessKey: 'AWS_SECRET_ACCESS_KEY', sessionToken: 'AWS_SESSION_TOKEN'} as const

/** True when any field of the spec names an s3a:// location (app, jars, files, pyFiles, args, conf and env values). */
export function specUsesS3a(spec: Pick<JobSpec, 'app' | 'jars' | 'files' | 'pyFiles' | 'args' | 'conf' | 'env'>): boolean {
  const values = [spec.app, ...spec.jars, ...spec.files, ...spec.pyFiles, ...spec.args, ...Object.values(spec.conf), ...Object.values(spec.env)]
  return values.some((v) => S3A_URL_RE.test(v))
}

/**
 * A spec that chooses its own S3A credentials (a provider, or keys, in its conf: an instance role, anonymous access
 * to a public bucket) gets none from cms unless --s3 asks.
 */
export function specChoosesS3Credentials(spec: Pick<JobSpec, 'conf'>): boolean {
  return Object.keys(spec.conf).some((k) => /^spark\.hadoop\.fs\.s3a\.(?:bucket\.[^.]+\.)?(?:aws\.credentials\.provider|access\.key|security\.credential\.provider\.path)$/.test(k))
}

/** --s3-endpoint: http(s)://host[:port][/], nothing else (no credentials, query or path: S3A takes a base URL). */
export function checkS3Endpoint(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new UsageError(`invalid --s3-endpoint ${JSON.stringify(endpoint)}: expected a URL like http://10.0.0.5:9000`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`invalid --s3-endpoint ${JSON.stringify(endpoint)}: expected an http:// or https:// URL`)
  if (url.username || url.password) throw new UsageError('invalid --s3-endpoint: credentials do not belong in the URL (they come from the environment or --s3-profile)')
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw new UsageError(`invalid --s3-endpoint ${JSON.stringify(endpoint)}: expected only a scheme, host and port`)
  return `${url.protocol}//${url.host}`
}

/** S3 flags checked before anything starts (exit 2); the credentials are read only when a job needs them. */
export function checkS3Options(opts: S3Options): S3Options {
  return {
    ...opts,
    ...(opts.endpoint !== undefined ? {endpoint: checkS3Endpoint(opts.endpoint)} : {}),
    ...(opts.region !== undefined ? {region: checkS3Region(opts.region, '--s3-region')} : {}),
  }
}

const REGION_RE = /^[a-z]{2}(-[a-z0-9]+){1,3}-\d{1,2}$/

export function checkS3Region(region: string, source: string): string {
  if (!REGION_RE.test(region)) throw new UsageError(`invalid S3 region ${JSON.stringify(region)} (from ${source}): expected a name like us-east-1`)
  return region
}

/**
 * Credentials go into files and environments line by line: a value with a space, a control character or a quote
 * could end its line and add settings of its own. AWS key ids, secrets and session tokens are printable ASCII
 * without spaces (base64 and a few signs).
 */
export function checkS3Credentials(c: S3Credentials): S3Credentials {
  const ok = (v: string) => /^[\x21-\x7e]+$/.test(v) && !/["'\\]/.test(v)
  if (!ok(c.accessKeyId) || !ok(c.secretAccessKey) || (c.sessionToken !== undefined && !ok(c.sessionToken))) {
    // Never name the value: it is a secret.
    throw new UsageError('the AWS credentials found for S3 contain a space, a quote or a control character: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or the profile')
  }
  return c
}

/**
 * The Spark properties that point S3A at the store and at the credentials, never the credentials themselves.
 * An endpoint (an S3-compatible store) also means path-style access (buckets as paths, no DNS per bucket) and SSL
 * as its scheme says; its region defaults to us-east-1 (the SDK signs with a region even where the store ignores
 * it). Engines merge these before the spec's own `conf`, which wins as always.
 */
export function s3SparkProperties(access: Pick<S3Access, 'endpoint' | 'region'>, via: S3CredentialsVia): Record<string, string> {
  const p: Record<string, string> = {}
  if (access.endpoint) {
    p['spark.hadoop.fs.s3a.endpoint'] = access.endpoint
    p['spark.hadoop.fs.s3a.path.style.access'] = 'true'
    p['spark.hadoop.fs.s3a.connection.ssl.enabled'] = String(access.endpoint.startsWith('https:'))
  }
  const region = access.region ?? (access.endpoint ? 'us-east-1' : undefined)
  if (region) p['spark.hadoop.fs.s3a.endpoint.region'] = region
  p['spark.hadoop.fs.s3a.aws.credentials.provider'] = via.kind === 'file' ? PROFILE_PROVIDER : ENV_PROVIDER
  return p
}

/**
 * Environment the driver and every executor need (no secret in it): where the credentials file is, and, for an
 * S3-compatible store, no EC2 instance metadata lookups (the SDK would otherwise ask 169.254.169.254 for a region or
 * credentials and wait for its timeout).
 */
export function s3Environment(access: Pick<S3Access, 'endpoint'>, via: S3CredentialsVia): Record<string, string> {
  const env: Record<string, string> = {}
  if (via.kind === 'file') {
    env.AWS_SHARED_CREDENTIALS_FILE = via.path
    env.AWS_PROFILE = S3_PROFILE
  }
  if (access.endpoint) env.AWS_EC2_METADATA_DISABLED = 'true'
  return env
}

/** `spark.executorEnv.K` for each variable: how Spark hands environment to its executors. */
export function executorEnvProperties(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [`spark.executorEnv.${k}`, v]))
}

/** The AWS shared credentials file (INI) with one profile, for ProfileCredentialsProvider. */
export function credentialsFileText(c: S3Credentials): string {
  checkS3Credentials(c)
  const lines = [`[${S3_PROFILE}]`, `aws_access_key_id = ${c.accessKeyId}`, `aws_secret_access_key = ${c.secretAccessKey}`]
  if (c.sessionToken) lines.push(`aws_session_token = ${c.sessionToken}`)
  return `${lines.join('\n')}\n`
}

/** The secret values, for tests and checks that nothing leaked (a record, a manifest, a log line). */
export function secretValues(c: S3Credentials): string[] {
  return [c.accessKeyId, c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])]
}
