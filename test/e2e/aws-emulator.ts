import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type Instance,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2'
import {ROOT} from './helpers.js'

const run = promisify(execFile)
// The tests pin the SDK as cms does; its notice about releases after January 2027 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

/** moto_server from the project's own installer (a venv under the testbed cache); CMS_MOTO_SERVER overrides it. */
export async function motoServerPath(): Promise<string> {
  if (process.env.CMS_MOTO_SERVER) return process.env.CMS_MOTO_SERVER
  const {stdout} = await run('bash', [join(ROOT, 'scripts', 'moto.sh')], {maxBuffer: 1 << 20, timeout: 900_000})
  return stdout.trim()
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Debian's account: the server runs as it, so an image the test registers is "Debian's" to cms's default lookup. */
export const DEBIAN_ACCOUNT = '136693071363'

export interface Emulator {
  url: string
  ec2: EC2Client
  /** The environment a cms run needs to talk to this emulator only (dummy keys, no metadata service, no profile). */
  env: Record<string, string>
  reset(): Promise<void>
  stop(): Promise<void>
}

/**
 * A private moto server on a free loopback port, with AMI, instance type and key pair validation on (otherwise
 * moto accepts any id). Its state is its own: test files never share one.
 */
export async function startEmulator(extraEnv: Record<string, string> = {}): Promise<Emulator> {
  const server = await motoServerPath()
  const port = await freePort()
  const child: ChildProcess = spawn(server, ['-H', '127.0.0.1', '-p', String(port)], {
    env: {
      ...process.env,
      MOTO_ENABLE_AMI_VALIDATION: 'true',
      MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION: 'true',
      MOTO_ENABLE_KEYPAIR_VALIDATION: 'true',
      MOTO_ACCOUNT_ID: DEBIAN_ACCOUNT,
      ...extraEnv,
    },
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  let up = false
  for (let i = 0; i < 120 && !up; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`)
    up = await fetch(`${url}/moto-api/`, {signal: AbortSignal.timeout(2000)}).then((r) => r.ok, () => false)
    if (!up) await sleep(250)
  }
  if (!up) {
    child.kill('SIGKILL')
    throw new Error(`moto_server did not answer on ${url} within 30 s`)
  }
  const env = {
    AWS_ENDPOINT_URL_EC2: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_CONFIG_FILE: '/nonexistent/cms-test-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/cms-test-aws-credentials',
    CMS_AWS_CONNECT: 'private',
  }
  const ec2 = new EC2Client({region: 'us-east-1', endpoint: url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}, maxAttempts: 1})
  return {
    url,
    ec2,
    env,
    reset: async () => {
      const r = await fetch(`${url}/moto-api/reset`, {method: 'POST', signal: AbortSignal.timeout(10_000)})
      if (!r.ok) throw new Error(`moto reset: HTTP ${r.status}`)
    },
    stop: async () => {
      ec2.destroy()
      child.kill('SIGTERM')
      for (let i = 0; i < 40 && child.exitCode === null && child.signalCode === null; i++) await sleep(100)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}

/**
 * The loopback trick: a VPC 127.0.0.0/16 with a subnet 127.0.7.0/24 (this helper's range), so that instances get
 * private addresses 127.0.7.x that a test container can answer on; and a Debian-named image.
 */
export async function loopbackNetwork(ec2: EC2Client, withImage = true): Promise<{vpcId: string; subnetId: string; imageId: string}> {
  return emulatedNetwork(ec2, '127.0.0.0/16', '127.0.7.0/24', withImage)
}

/** A VPC and one subnet in it (instances launched there get the subnet's addresses), and a Debian-named image. */
export async function emulatedNetwork(ec2: EC2Client, vpcCidr: string, subnetCidr: string, withImage = true): Promise<{vpcId: string; subnetId: string; imageId: string}> {
  const vpc = await ec2.send(new CreateVpcCommand({CidrBlock: vpcCidr}))
  const subnet = await ec2.send(new CreateSubnetCommand({VpcId: vpc.Vpc!.VpcId!, CidrBlock: subnetCidr}))
  const imageId = withImage ? await registerDebianImage(ec2, 'debian-12-amd64-20261101-1900') : ''
  return {vpcId: vpc.Vpc!.VpcId!, subnetId: subnet.Subnet!.SubnetId!, imageId}
}

/** An image named as Debian names its own (the emulator runs as Debian's account, so it is "Debian's"). */
export async function registerDebianImage(ec2: EC2Client, name: string): Promise<string> {
  const image = await ec2.send(
    new RegisterImageCommand({
      Name: name,
      Architecture: 'x86_64',
      RootDeviceName: '/dev/xvda',
      VirtualizationType: 'hvm',
      BlockDeviceMappings: [{DeviceName: '/dev/xvda', Ebs: {VolumeSize: 8}}],
    }),
  )
  return image.ImageId!
}

export async function clusterInstances(ec2: EC2Client, cluster: string, states?: string[]): Promise<Instance[]> {
  const filters = [{Name: 'tag:cms-cluster', Values: [cluster]}]
  if (states) filters.push({Name: 'instance-state-name', Values: states})
  const out = await ec2.send(new DescribeInstancesCommand({Filters: filters}))
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
}

export const LIVE = ['pending', 'running', 'stopping', 'stopped']

export async function clusterGroups(ec2: EC2Client, cluster: string) {
  const out = await ec2.send(new DescribeSecurityGroupsCommand({Filters: [{Name: 'tag:cms-cluster', Values: [cluster]}]}))
  return out.SecurityGroups ?? []
}

export async function clusterKeyPairs(ec2: EC2Client, cluster: string) {
  const out = await ec2.send(new DescribeKeyPairsCommand({Filters: [{Name: 'tag:cms-cluster', Values: [cluster]}]}))
  return out.KeyPairs ?? []
}

export function tagsOf(instance: Instance): Record<string, string> {
  return Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))
}
