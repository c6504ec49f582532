import {Flags} from '@oclif/core'
import type {S3Options} from '../jobs/s3.js'

/** Where s3a:// paths are and whose credentials jobs get: `cluster submit` and `serve` take the same flags. */
export const s3StoreFlags = {
  's3-endpoint': Flags.string({description: 'S3-compatible store for s3a:// paths, like http://10.0.0.5:9000 (path-style access; SSL as the scheme says) [default: $AWS_ENDPOINT_URL_S3, else AWS].', helpGroup: 'S3'}),
  's3-region': Flags.string({description: "Region of the S3 store [default: AWS_REGION, AWS_DEFAULT_REGION, the profile's; us-east-1 with --s3-endpoint].", helpGroup: 'S3'}),
  's3-profile': Flags.string({description: 'AWS profile (~/.aws/credentials) whose credentials jobs use for s3a:// paths [default: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else AWS_PROFILE].', helpGroup: 'S3'}),
}

export function s3OptionsOf(flags: {'s3-endpoint'?: string; 's3-region'?: string; 's3-profile'?: string}): S3Options {
  return {endpoint: flags['s3-endpoint'], region: flags['s3-region'], profile: flags['s3-profile']}
}
