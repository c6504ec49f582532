import {describe, expect, it} from 'vitest'
import {AwsError, AwsInputError, Ec2Api} from '../../../src/providers/aws/client.js'
import {UsageError} from '../../../src/remote/errors.js'

const sdkError = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), {name, ...extra})

describe('aws errors: one line that names the problem', () => {
  const api = new Ec2Api({region: 'us-east-1', connect: 'public'})
  const withProfile = new Ec2Api({region: 'eu-west-1', profile: 'work', connect: 'public'})

  it('says how to provide credentials when there are none', async () => {
    const e = await api.explain(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'))
    expect(e).toBeInstanceOf(AwsError)
    expect(e.message).toMatch(/^no AWS credentials found \(the default credential chain\): set AWS_ACCESS_KEY_ID/)
    expect((await withProfile.explain(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'))).message).toMatch(/^no AWS credentials found for profile work: /)
    expect((await api.explain(sdkError('CredentialsProviderError', 'Token is expired'))).message).toBe('AWS credentials could not be loaded (the default credential chain): Token is expired')
  })

  it('names rejected, expired and insufficient credentials', async () => {
    expect((await api.explain(sdkError('AuthFailure', 'AWS was not able to validate', {$metadata: {httpStatusCode: 401}}))).message).toMatch(/AWS rejected the credentials .*AuthFailure/)
    expect((await api.explain(sdkError('RequestExpired', 'x', {$metadata: {httpStatusCode: 400}}))).message).toMatch(/have expired/)
    const denied = await api.explain(
      sdkError('UnauthorizedOperation', 'You are not authorized to perform this operation. User: arn:aws:iam::1:user/x is not authorized to perform: ec2:RunInstances. Encoded authorization failure message: abc', {$metadata: {httpStatusCode: 403}}),
    )
    expect(denied.message).toMatch(/not allowed by AWS .*ec2:RunInstances\.$/)
  })

  it('makes a value EC2 does not know a usage error (exit 2)', async () => {
    const e = await api.explain(sdkError('InvalidAMIID.NotFound', "The image id '[ami-1]' does not exist", {$metadata: {httpStatusCode: 400}, $fault: 'client'}))
    expect(e).toBeInstanceOf(AwsInputError)
    expect(e).toBeInstanceOf(UsageError)
    expect(e.message).toBe("EC2 in us-east-1: InvalidAMIID.NotFound: The image id '[ami-1]' does not exist")
  })

  it('keeps EC2\'s code for other refusals, and its first line only', async () => {
    const e = await api.explain(sdkError('InsufficientInstanceCapacity', 'We currently do not have sufficient m6i.large capacity.\nmore', {$metadata: {httpStatusCode: 500}, $fault: 'server'}))
    expect(e.message).toBe('EC2 refused the request: InsufficientInstanceCapacity: We currently do not have sufficient m6i.large capacity.')
    expect((e as AwsError).code).toBe('InsufficientInstanceCapacity')
  })
})
