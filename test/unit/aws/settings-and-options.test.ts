import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {formatDuration, isExpired, parseDuration} from '../../../src/cluster/max-age.js'
import {debianImagePattern, newestImage} from '../../../src/providers/aws/images.js'
import {runInstancesInput, chunks} from '../../../src/providers/aws/instances.js'
import {launchFlagsGiven, validateLaunchOptions} from '../../../src/providers/aws/launch-options.js'
import {findAwsSettings, profileRegion, requireAwsSettings} from '../../../src/providers/aws/settings.js'

const noFile = {AWS_CONFIG_FILE: '/nonexistent/aws-config'}

describe('aws region, profile and connect mode', () => {
  it('takes the region from --region, the cluster, AWS_REGION, AWS_DEFAULT_REGION, then the profile, in that order', () => {
    expect(findAwsSettings({region: 'eu-west-1'}, {region: 'us-east-2'}, {...noFile, AWS_REGION: 'ap-south-1'})?.region).toBe('eu-west-1')
    expect(findAwsSettings({}, {region: 'us-east-2'}, {...noFile, AWS_REGION: 'ap-south-1'})?.region).toBe('us-east-2')
    expect(findAwsSettings({}, undefined, {...noFile, AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'eu-north-1'})?.region).toBe('ap-south-1')
    // As the aws cli does, which the JS SDK alone does not.
    expect(findAwsSettings({}, undefined, {...noFile, AWS_DEFAULT_REGION: 'eu-north-1'})?.region).toBe('eu-north-1')
    expect(findAwsSettings({}, undefined, noFile)).toBeUndefined()
    expect(() => requireAwsSettings({}, undefined, noFile)).toThrow(/no AWS region: pass --region/)
  })

  it('reads a profile\'s region from the config file like the aws cli', () => {
    const text = ['[default]', 'region = us-west-2', '', '[profile work]', 'output = json', 'region=eu-central-1', 's3 =', '  region = nope', '[sso-session x]', 'region = ap-east-1'].join('\n')
    expect(profileRegion(text, 'default')).toBe('us-west-2')
    expect(profileRegion(text, 'work')).toBe('eu-central-1')
    expect(profileRegion(text, 'missing')).toBeUndefined()
    const dir = mkdtempSync(join(tmpdir(), 'cms-aws-'))
    writeFileSync(join(dir, 'config'), text)
    expect(findAwsSettings({profile: 'work'}, undefined, {AWS_CONFIG_FILE: join(dir, 'config')})).toEqual({region: 'eu-central-1', profile: 'work', connect: 'public'})
    expect(findAwsSettings({}, undefined, {AWS_CONFIG_FILE: join(dir, 'config'), AWS_PROFILE: 'work'})?.region).toBe('eu-central-1')
  })

  it('connects by --connect, then CMS_AWS_CONNECT, then what the cluster recorded, else public', () => {
    const env = {...noFile, AWS_REGION: 'us-east-1'}
    expect(findAwsSettings({}, undefined, env)?.connect).toBe('public')
    expect(findAwsSettings({}, {region: 'us-east-1', connect: 'private'}, env)?.connect).toBe('private')
    expect(findAwsSettings({}, {region: 'us-east-1', connect: 'public'}, {...env, CMS_AWS_CONNECT: 'private'})?.connect).toBe('private')
    expect(findAwsSettings({connect: 'public'}, undefined, {...env, CMS_AWS_CONNECT: 'private'})?.connect).toBe('public')
    expect(() => findAwsSettings({connect: 'bastion'}, undefined, env)).toThrow(/--connect/)
  })

  it('refuses malformed regions and profile names before any call', () => {
    expect(() => findAwsSettings({region: 'US-EAST-1'}, undefined, noFile)).toThrow(/invalid AWS region/)
    expect(() => findAwsSettings({region: 'us-east-1; rm -rf /'}, undefined, noFile)).toThrow(/invalid AWS region/)
    expect(findAwsSettings({region: 'us-gov-west-1'}, undefined, noFile)?.region).toBe('us-gov-west-1')
    expect(() => findAwsSettings({region: 'us-east-1', profile: 'a b'}, undefined, noFile)).toThrow(/invalid AWS profile/)
  })
})

describe('max age', () => {
  it('parses durations and writes them back short', () => {
    expect(parseDuration('90m')).toBe(5400)
    expect(parseDuration('1h30m')).toBe(5400)
    expect(parseDuration('2d')).toBe(172_800)
    expect(parseDuration('1w')).toBe(604_800)
    expect(parseDuration('45s')).toBe(45)
    expect(formatDuration(5400)).toBe('1h30m')
    expect(formatDuration(93_784)).toBe('1d2h3m')
    expect(formatDuration(125)).toBe('2m5s')
    expect(formatDuration(7)).toBe('7s')
    for (const bad of ['', '8', 'h', '1.5h', '-1h', '0s', '400d', '1 h']) expect(() => parseDuration(bad), bad).toThrow(/--max-age/)
  })

  it('is expired only past its max age', () => {
    expect(isExpired(7201, 7200)).toBe(true)
    expect(isExpired(7200, 7200)).toBe(false)
    expect(isExpired(100, undefined)).toBe(false)
    expect(isExpired(undefined, 100)).toBe(false)
  })
})

describe('aws launch options', () => {
  it('checks every flag before anything is asked of AWS, and normalizes the max age', () => {
    expect(validateLaunchOptions({instanceType: 'm6i.large', headInstanceType: 'r7g.2xlarge', image: 'ami-0123456789abcdef0', subnet: 'subnet-0123abcd', volumeSizeGb: 100, sshCidr: '203.0.113.0/24', sshUser: 'admin', maxAge: '90m'})).toMatchObject({maxAge: '1h30m'})
    const bad: Array<[object, RegExp]> = [
      [{instanceType: 'large'}, /--instance-type/],
      [{headInstanceType: 'M6I.LARGE'}, /--head-instance-type/],
      [{image: 'ami-xyz'}, /--ami/],
      [{image: 'ami-0123456789abcdef0; echo'}, /--ami/],
      [{subnet: 'sub-1'}, /--subnet/],
      [{volumeSizeGb: 4}, /--volume-size/],
      [{sshCidr: '0.0.0.0'}, /--ssh-cidr/],
      [{sshUser: 'root$'}, /--ssh-user/],
      [{maxAge: 'forever'}, /--max-age/],
    ]
    for (const [opts, message] of bad) expect(() => validateLaunchOptions(opts), JSON.stringify(opts)).toThrow(message)
  })

  it('names the aws flags given, for the error with another provider', () => {
    expect(launchFlagsGiven({spot: true, maxAge: '1h', image: undefined})).toEqual(['--spot', '--max-age'])
    expect(launchFlagsGiven(undefined)).toEqual([])
  })
})

describe('aws images and launches', () => {
  it('finds Debian 12 by name for the architecture and picks the newest', () => {
    expect(debianImagePattern('x86_64')).toBe('debian-12-amd64-*')
    expect(debianImagePattern('arm64')).toBe('debian-12-arm64-*')
    expect(newestImage([{Name: 'debian-12-amd64-20250101-1', CreationDate: '2025-01-01T00:00:00Z'}, {Name: 'debian-12-amd64-20250601-1', CreationDate: '2025-06-01T00:00:00Z'}])?.Name).toBe('debian-12-amd64-20250601-1')
    // Same creation date: the name (which carries the build date) decides.
    expect(newestImage([{Name: 'debian-12-amd64-20250601-1', CreationDate: 'x'}, {Name: 'debian-12-amd64-20250101-1', CreationDate: 'x'}])?.Name).toBe('debian-12-amd64-20250601-1')
    expect(newestImage([])).toBeUndefined()
  })

  it('launches one host per call: IMDSv2 only, its token, tags on instance and disk, spot and disk size when asked', () => {
    const spec = {
      imageId: 'ami-1',
      instanceType: 'm6i.large',
      keyName: 'cms-demo',
      securityGroupId: 'sg-1',
      userData: '#cloud-config\n',
      tags: [{Key: 'cms-cluster', Value: 'demo'}],
      cluster: 'demo',
      clientToken: 'cms-demo-1-sg-1',
      spot: false,
    }
    const plain = runInstancesInput(spec)
    expect(plain).toMatchObject({MinCount: 1, MaxCount: 1, ClientToken: 'cms-demo-1-sg-1', KeyName: 'cms-demo', SecurityGroupIds: ['sg-1'], MetadataOptions: {HttpTokens: 'required'}})
    expect(Buffer.from(plain.UserData!, 'base64').toString()).toBe('#cloud-config\n')
    expect(plain.TagSpecifications?.map((t) => t.ResourceType)).toEqual(['instance', 'volume'])
    expect(plain.InstanceMarketOptions).toBeUndefined()
    expect(plain.BlockDeviceMappings).toBeUndefined()
    expect(plain.SubnetId).toBeUndefined()
    const spot = runInstancesInput({...spec, spot: true, volumeSizeGb: 100, rootDeviceName: '/dev/sda1', subnetId: 'subnet-1'})
    expect(spot.InstanceMarketOptions).toEqual({MarketType: 'spot', SpotOptions: {SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate'}})
    expect(spot.BlockDeviceMappings).toEqual([{DeviceName: '/dev/sda1', Ebs: {VolumeSize: 100, VolumeType: 'gp3', DeleteOnTermination: true}}])
    expect(spot.SubnetId).toBe('subnet-1')
  })

  it('batches calls by EC2\'s per-call limit', () => {
    expect(chunks(Array.from({length: 2001}, (_, i) => i), 1000).map((c) => c.length)).toEqual([1000, 1000, 1])
    expect(chunks([], 1000)).toEqual([])
  })
})
