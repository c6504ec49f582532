import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {clusterGroups, clusterInstances, clusterKeyPairs, LIVE, loopbackNetwork, startEmulator, tagsOf, type Emulator} from './aws-emulator.js'
import {Ec2LoopbackHosts} from './aws-loopback-hosts.js'
import {aliveWorkers, cms, makeCmsHome} from './helpers.js'

// A whole `create -p aws` against the EC2 emulator, Spark included. The emulator's instances run nothing, so
// Ec2LoopbackHosts starts a container for each one, configured from the instance's own user data and answering
// SSH on its 127.0.7.x private address; cms connects by private address. Assertions read the EC2 API and the
// Spark master's own API, never what cms printed.
const NAME = 'h7-aws-e2e'
const PREFIX = 'h7-aws-e2e'

describe('aws provider end to end (EC2 emulator, hosts on loopback addresses)', () => {
  const {home, cleanup} = makeCmsHome()
  let emulator: Emulator
  let hosts: Ec2LoopbackHosts
  let env: Record<string, string>
  let subnetId = ''
  let imageId = ''

  const head = async () => {
    const h = (await clusterInstances(emulator.ec2, NAME, LIVE)).find((i) => tagsOf(i)['cms-role'] === 'head')!
    return {id: h.InstanceId!, ip: h.PrivateIpAddress!}
  }
  /** Waits (bounded) until the master reports `count` alive workers. */
  const waitForAliveWorkers = (count: number) => hosts.waitForAliveWorkers(head, count)

  beforeAll(async () => {
    // The Spark runtime comes from the testbed (never downloaded by a test).
    if (!process.env.CMS_SPARK_DIST) throw new Error('CMS_SPARK_DIST is not set: run eval "$(bash scripts/testbed.sh)" first')
    emulator = await startEmulator()
    ;({subnetId, imageId} = await loopbackNetwork(emulator.ec2))
    hosts = new Ec2LoopbackHosts(emulator.ec2, PREFIX)
    await hosts.start()
    // No Docker engine for cms: an aws cluster needs none, and `list` must not touch other clusters' containers.
    env = {...emulator.env, CMS_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
  })

  afterAll(async () => {
    await hosts?.stop()
    await emulator?.stop()
    cleanup()
  })

  it('create makes tagged instances, one key pair, one security group (SSH from one CIDR), and a healthy Spark cluster', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'aws', '--hosts', '2', '--subnet', subnetId, '--max-age', '2h', '--json'], env)
    expect(hosts.errors).toEqual([])
    expect(r.code, r.stderr).toBe(0)
    const instances = await clusterInstances(emulator.ec2, NAME, LIVE)
    expect(instances).toHaveLength(2)
    const tags = instances.map(tagsOf).sort((a, b) => Number(a['cms-index']) - Number(b['cms-index']))
    expect(tags.map((t) => [t['cms-cluster'], t['cms-role'], t['cms-engine'], t['cms-index'], t['cms-max-age']])).toEqual([
      [NAME, 'head', 'spark', '1', '2h'],
      [NAME, 'worker', 'spark', '2', '2h'],
    ])
    // The newest Debian 12 image, found by owner and name (the emulator plays Debian's account).
    expect(instances.map((i) => i.ImageId)).toEqual([imageId, imageId])
    expect(instances.every((i) => i.KeyName === `cms-${NAME}` && i.SubnetId === subnetId && i.MetadataOptions?.HttpTokens === 'required')).toBe(true)

    const pairs = await clusterKeyPairs(emulator.ec2, NAME)
    expect(pairs.map((p) => p.KeyName)).toEqual([`cms-${NAME}`])
    const groups = await clusterGroups(emulator.ec2, NAME)
    expect(groups).toHaveLength(1)
    const group = groups[0]
    expect(instances.every((i) => i.SecurityGroups?.map((g) => g.GroupId).join() === group.GroupId)).toBe(true)
    const fromOutside = (group.IpPermissions ?? []).filter((p) => (p.IpRanges ?? []).length > 0 || (p.Ipv6Ranges ?? []).length > 0)
    expect(fromOutside).toHaveLength(1)
    expect(fromOutside[0]).toMatchObject({IpProtocol: 'tcp', FromPort: 22, ToPort: 22})
    // --connect private: SSH from the VPC's own range.
    expect(fromOutside[0].IpRanges?.map((x) => x.CidrIp)).toEqual(['127.0.0.0/16'])
    const members = (group.IpPermissions ?? []).filter((p) => (p.UserIdGroupPairs ?? []).length > 0)
    expect(members).toHaveLength(1)
    expect(members[0].IpProtocol).toBe('-1')
    expect(members[0].UserIdGroupPairs?.map((g) => g.GroupId)).toEqual([group.GroupId])

    // Host keys were known before the first connection: nothing was trusted on first use. cms's known_hosts holds,
    // for each instance's address, exactly the key it tagged the instance with (and handed to cloud-init).
    expect(r.stderr).not.toContain('Recorded host key')
    const knownHosts = readFileSync(join(home, 'known_hosts'), 'utf8')
    for (const i of instances) expect(knownHosts).toContain(`${i.PrivateIpAddress} ${tagsOf(i)['cms-host-key']}\n`)
    // The cluster's private key stays on this machine, 0600.
    expect(statSync(join(home, 'keys', NAME)).mode & 0o777).toBe(0o600)
    const master = await waitForAliveWorkers(2)
    expect(master.status).toBe('ALIVE')
    // Spark's workers are the instances, on the private addresses EC2 gave them.
    expect(aliveWorkers(master)).toEqual(instances.map((i) => i.PrivateIpAddress).sort())
    expect(JSON.parse(r.stdout).cluster.health).toBe('healthy')
    expect(existsSync(join(home, 'keys', NAME))).toBe(true)
  })

  it('a rerun of create makes no duplicate instance', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'aws', '--hosts', '2', '--subnet', subnetId, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(await clusterInstances(emulator.ec2, NAME, LIVE)).toHaveLength(2)
    expect(JSON.parse(r.stdout).transfer.uploadedBytes).toBe(0)
  })

  it('info shows each instance type, lifecycle and age, and the cluster healthy', async () => {
    const r = await cms(['cluster', 'info', '-n', NAME, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const info = JSON.parse(r.stdout)
    expect(info).toMatchObject({provider: 'aws', health: 'healthy', maxAgeSeconds: 7200, expired: false})
    const instances = await clusterInstances(emulator.ec2, NAME, LIVE)
    for (const h of info.hosts) {
      const instance = instances.find((i) => i.InstanceId === h.id)!
      expect(h).toMatchObject({instanceType: instance.InstanceType, lifecycle: 'on-demand', launchedAt: instance.LaunchTime!.toISOString()})
      expect(h.ageSeconds).toBeGreaterThanOrEqual(0)
    }
  })

  it('list with an empty CMS_HOME still finds the cluster by its tags', async () => {
    const empty = makeCmsHome()
    try {
      const r = await cms(['cluster', 'list', '--json'], {...env, CMS_HOME: empty.home})
      expect(r.code, r.stderr).toBe(0)
      const entry = JSON.parse(r.stdout).clusters.find((c: {name: string}) => c.name === NAME)
      expect(entry).toMatchObject({provider: 'aws', engine: 'spark', hosts: 2, runningHosts: 2, maxAgeSeconds: 7200, expired: false})
      // No access key on that "machine": found, but not logged in to.
      expect(entry.error).toContain('access key')
    } finally {
      empty.cleanup()
    }
  })

  it('add launches a worker like the others and it joins the master', async () => {
    const r = await cms(['cluster', 'add', '-n', NAME, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const instances = await clusterInstances(emulator.ec2, NAME, LIVE)
    expect(instances).toHaveLength(3)
    const added = instances.find((i) => tagsOf(i)['cms-index'] === '3')!
    expect(tagsOf(added)).toMatchObject({'cms-role': 'worker', 'cms-engine': 'spark', 'cms-max-age': '2h'})
    expect(added.ImageId).toBe(imageId)
    expect(aliveWorkers(await waitForAliveWorkers(3))).toContain(added.PrivateIpAddress)
  })

  it('remove drains the worker, then terminates its instance', async () => {
    const victim = (await clusterInstances(emulator.ec2, NAME, LIVE)).find((i) => tagsOf(i)['cms-index'] === '3')!
    const r = await cms(['cluster', 'remove', '-n', NAME, victim.InstanceId!], env)
    expect(r.code, r.stderr).toBe(0)
    const live = await clusterInstances(emulator.ec2, NAME, LIVE)
    expect(live.map((i) => i.InstanceId)).not.toContain(victim.InstanceId)
    expect(live).toHaveLength(2)
    expect(aliveWorkers(await waitForAliveWorkers(2))).not.toContain(victim.PrivateIpAddress)
  })

  it('kill terminates every instance, then deletes the security group and the key pair', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const all = await clusterInstances(emulator.ec2, NAME)
    expect(all.length).toBeGreaterThan(0)
    expect(all.filter((i) => i.State?.Name !== 'terminated')).toEqual([])
    expect(await clusterGroups(emulator.ec2, NAME)).toEqual([])
    expect(await clusterKeyPairs(emulator.ec2, NAME)).toEqual([])
    expect(JSON.parse(r.stdout).removed).toHaveLength(2)
    expect(existsSync(join(home, 'keys', NAME))).toBe(false)
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })
})
