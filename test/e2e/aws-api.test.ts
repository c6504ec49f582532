import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {TerminateInstancesCommand} from '@aws-sdk/client-ec2'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {clusterGroups, clusterInstances, clusterKeyPairs, LIVE, loopbackNetwork, registerDebianImage, startEmulator, tagsOf, type Emulator} from './aws-emulator.js'
import {cms, makeCmsHome} from './helpers.js'

// The aws provider's EC2 side against the emulator, without hosts: nothing answers on the instances' 127.0.7.x
// addresses, so a create that gets as far as SSH fails there (exit 1) and leaves a half-made cluster, which is
// what rerun, kill and reap must handle. Every assertion reads the EC2 API.
const BASE = ['--connect-timeout', '1']

/** Only the error line: no stack, no progress. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n')
  expect(lines, stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^Error: /)
  return lines[0]
}

describe('aws provider against the EC2 emulator (API only)', () => {
  const {home, cleanup} = makeCmsHome()
  let emulator: Emulator
  let env: Record<string, string>
  let subnetId = ''

  const nothingOf = async (cluster: string) => {
    expect(await clusterInstances(emulator.ec2, cluster)).toEqual([])
    expect(await clusterGroups(emulator.ec2, cluster)).toEqual([])
    expect(await clusterKeyPairs(emulator.ec2, cluster)).toEqual([])
    expect(existsSync(join(home, 'keys', cluster))).toBe(false)
  }
  /** What a kill must leave: no instance that is not terminated, no security group, no key pair. */
  const goneAfterKill = async (cluster: string) => {
    expect((await clusterInstances(emulator.ec2, cluster)).filter((i) => i.State?.Name !== 'terminated')).toEqual([])
    expect(await clusterGroups(emulator.ec2, cluster)).toEqual([])
    expect(await clusterKeyPairs(emulator.ec2, cluster)).toEqual([])
  }
  const create = (name: string, ...args: string[]) => cms(['cluster', 'create', '-n', name, '-p', 'aws', '--subnet', subnetId, ...BASE, ...args], env)

  beforeAll(async () => {
    if (!process.env.CMS_SPARK_DIST) throw new Error('CMS_SPARK_DIST is not set: run eval "$(bash scripts/testbed.sh)" first')
    emulator = await startEmulator()
    ;({subnetId} = await loopbackNetwork(emulator.ec2, false))
    env = {...emulator.env, CMS_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
  })

  afterAll(async () => {
    await emulator?.stop()
    cleanup()
  })

  it('a bad AMI, an unknown instance type and a bad region each give one clear line, exit 2, and create nothing', async () => {
    const ami = await create('h7-bad-ami', '--ami', 'ami-0123456789abcdef0')
    expect(ami.code).toBe(2)
    expect(oneLine(ami.stderr)).toMatch(/ami-0123456789abcdef0/)
    await nothingOf('h7-bad-ami')

    const type = await create('h7-bad-type', '--instance-type', 'zz9.huge')
    expect(type.code).toBe(2)
    expect(oneLine(type.stderr)).toMatch(/zz9\.huge/)
    await nothingOf('h7-bad-type')

    const region = await create('h7-bad-region', '--region', 'us-nowhere-1')
    expect(region.code).toBe(2)
    expect(oneLine(region.stderr)).toMatch(/unknown AWS region us-nowhere-1/)
    await nothingOf('h7-bad-region')
  })

  it('missing credentials give one clear line, exit 1, and create nothing', async () => {
    const r = await cms(['cluster', 'create', '-n', 'h7-nocreds', '-p', 'aws', '--subnet', subnetId, ...BASE], {
      ...env,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
    })
    expect(r.code).toBe(1)
    expect(oneLine(r.stderr)).toMatch(/no AWS credentials found/)
    await nothingOf('h7-nocreds')
  })

  it('credentials EC2 rejects give one clear line and exit 1', async () => {
    const strict = await startEmulator({INITIAL_NO_AUTH_ACTION_COUNT: '0'})
    try {
      const r = await cms(['cluster', 'create', '-n', 'h7-badcreds', '-p', 'aws', '--subnet', subnetId, ...BASE], {...env, ...strict.env, CMS_HOME: home})
      expect(r.code).toBe(1)
      expect(oneLine(r.stderr)).toMatch(/AWS rejected the credentials .*AuthFailure/)
    } finally {
      await strict.stop()
    }
  })

  it('without --ami and no Debian 12 image in the region, create says so and creates nothing', async () => {
    const r = await create('h7-noimage')
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toMatch(/no Debian 12 image .*136693071363.*--ami/)
    await nothingOf('h7-noimage')
  })

  it('a rerun of create launches only the missing hosts, never a second instance for an index', async () => {
    // The default image is the newest Debian 12 one, by name (the emulator gives every image one creation date).
    await registerDebianImage(emulator.ec2, 'debian-12-amd64-20261001-0100')
    const newest = await registerDebianImage(emulator.ec2, 'debian-12-amd64-20261120-0100')
    await registerDebianImage(emulator.ec2, 'debian-12-backports-amd64-20261201-0100')
    const first = await create('h7-rerun', '--hosts', '2')
    // The hosts do not answer (nothing listens on their addresses): a half-made cluster, exit 1.
    expect(first.code, first.stderr).toBe(1)
    const launched = await clusterInstances(emulator.ec2, 'h7-rerun', LIVE)
    expect(launched.map((i) => tagsOf(i)['cms-index']).sort()).toEqual(['1', '2'])
    expect(launched.every((i) => i.ImageId === newest)).toBe(true)
    const group = (await clusterGroups(emulator.ec2, 'h7-rerun'))[0]
    expect(launched.map((i) => i.ClientToken).sort()).toEqual([`cms-h7-rerun-1-${group.GroupId}`, `cms-h7-rerun-2-${group.GroupId}`])

    const again = await create('h7-rerun', '--hosts', '3')
    expect(again.code).toBe(1)
    const now = await clusterInstances(emulator.ec2, 'h7-rerun', LIVE)
    expect(now.map((i) => tagsOf(i)['cms-index']).sort()).toEqual(['1', '2', '3'])
    expect(now.filter((i) => launched.some((l) => l.InstanceId === i.InstanceId))).toHaveLength(2)
    expect(await clusterGroups(emulator.ec2, 'h7-rerun')).toHaveLength(1)
    expect(await clusterKeyPairs(emulator.ec2, 'h7-rerun')).toHaveLength(1)
  })

  it('create passes instance types, spot and disk size to EC2', async () => {
    const r = await create('h7-shape', '--hosts', '2', '--instance-type', 't3.small', '--head-instance-type', 't3.large', '--spot', '--volume-size', '30')
    expect(r.code).toBe(1)
    const instances = await clusterInstances(emulator.ec2, 'h7-shape', LIVE)
    const byRole = Object.fromEntries(instances.map((i) => [tagsOf(i)['cms-role'], i]))
    expect(byRole.head.InstanceType).toBe('t3.large')
    expect(byRole.worker.InstanceType).toBe('t3.small')
    expect(instances.map((i) => i.InstanceLifecycle)).toEqual(['spot', 'spot'])
    expect(instances.map((i) => tagsOf(i)['cms-volume-size'])).toEqual(['30', '30'])
    // Workers go where the head went (same subnet, same zone).
    expect(new Set(instances.map((i) => i.SubnetId)).size).toBe(1)
    expect((await cms(['cluster', 'kill', '-n', 'h7-shape', '--yes'], env)).code).toBe(0)
    await goneAfterKill('h7-shape')
  })

  it('kill cleans up a half-made cluster found by its tags alone, and reports what it removed', async () => {
    // Instances gone, security group and key pair left behind, and no access file on this "machine".
    const instances = await clusterInstances(emulator.ec2, 'h7-rerun', LIVE)
    await emulator.ec2.send(new TerminateInstancesCommand({InstanceIds: instances.map((i) => i.InstanceId!)}))
    const empty = makeCmsHome()
    try {
      const r = await cms(['cluster', 'kill', '-n', 'h7-rerun', '--yes', '--json'], {...env, CMS_HOME: empty.home})
      expect(r.code, r.stderr).toBe(0)
      const report = JSON.parse(r.stdout)
      expect(report.removed).toEqual([expect.stringMatching(/^security group sg-/), 'key pair cms-h7-rerun'])
    } finally {
      empty.cleanup()
    }
    await goneAfterKill('h7-rerun')
  })

  it('list flags the cluster past its --max-age, and reap kills only that one', async () => {
    expect((await create('h7-old', '--hosts', '1', '--max-age', '1s')).code).toBe(1)
    expect((await create('h7-young', '--hosts', '1', '--max-age', '1d')).code).toBe(1)
    await new Promise((r) => setTimeout(r, 2500))

    const list = await cms(['cluster', 'list', '--json', ...BASE], env)
    expect(list.code, list.stderr).toBe(0)
    const entries = JSON.parse(list.stdout).clusters as Array<{name: string; expired?: boolean; maxAgeSeconds?: number}>
    expect(entries.find((c) => c.name === 'h7-old')).toMatchObject({expired: true, maxAgeSeconds: 1})
    expect(entries.find((c) => c.name === 'h7-young')).toMatchObject({expired: false, maxAgeSeconds: 86_400})

    const reap = await cms(['cluster', 'reap', '--yes', '--json'], env)
    expect(reap.code, reap.stderr).toBe(0)
    expect(JSON.parse(reap.stdout).expired.map((e: {name: string}) => e.name)).toEqual(['h7-old'])
    await goneAfterKill('h7-old')
    expect(await clusterInstances(emulator.ec2, 'h7-young', ['running'])).toHaveLength(1)
    expect(await clusterGroups(emulator.ec2, 'h7-young')).toHaveLength(1)

    // The region from AWS_DEFAULT_REGION alone, as the aws cli reads it.
    const byDefaultRegion = await cms(['cluster', 'list', '--json', ...BASE], {...env, AWS_REGION: '', AWS_DEFAULT_REGION: 'us-east-1'})
    expect(byDefaultRegion.code, byDefaultRegion.stderr).toBe(0)
    expect(JSON.parse(byDefaultRegion.stdout).clusters.map((c: {name: string}) => c.name)).toContain('h7-young')
    // Region and credentials from a named profile (--profile), with nothing in the environment.
    const config = join(home, 'aws-config')
    const credentials = join(home, 'aws-credentials')
    writeFileSync(config, '[profile work]\nregion = us-east-1\n')
    writeFileSync(credentials, '[work]\naws_access_key_id = testing\naws_secret_access_key = testing\n', {mode: 0o600})
    const profileEnv = {...env, AWS_REGION: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials}
    const byProfile = await cms(['cluster', 'list', '--json', '--profile', 'work', ...BASE], profileEnv)
    expect(byProfile.code, byProfile.stderr).toBe(0)
    expect(JSON.parse(byProfile.stdout).clusters.map((c: {name: string}) => c.name)).toContain('h7-young')
    const nobody = await cms(['cluster', 'list', '--profile', 'nobody', ...BASE], {...profileEnv, AWS_REGION: 'us-east-1'})
    expect(nobody.code).toBe(1)
    expect(oneLine(nobody.stderr)).toMatch(/no AWS credentials found for profile nobody/)

    expect((await cms(['cluster', 'kill', '-n', 'h7-young', '--yes'], env)).code).toBe(0)
    expect(await clusterInstances(emulator.ec2, 'h7-young', LIVE)).toEqual([])
  })
})
