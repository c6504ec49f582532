// API round trips and wall time of the aws provider's create, list and kill, for 1 and 16 instances, against a
// private EC2 emulator (moto) on loopback. Run through bench/aws-api.sh, which bundles this file with esbuild.
//
// Two views:
// - provider: the aws provider in this process (what `create` does before SSH, what `list` and `kill` ask EC2),
//   every HTTP request to EC2 counted by the client's own middleware (retries included);
// - CLI: `bin/run.js cluster list --json` and `cluster kill --yes` as a user runs them (Node start-up included),
//   calls counted from their CMS_DEBUG lines. The emulator's instances run nothing, so the CLI's `create` is not
//   timed here (its SSH half is measured by create-vs-ansible.sh on containers).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {awsCallStats} from '../src/providers/aws/client.js'
import {AwsProvider} from '../src/providers/aws/provider.js'
import {SPARK_HOST_PACKAGES} from '../src/engines/spark/layout.js'
import {KnownHosts} from '../src/remote/known-hosts.js'
import {loopbackNetwork, startEmulator} from '../test/e2e/aws-emulator.js'

interface Row {
  view: 'provider' | 'CLI'
  operation: string
  instances: number
  clusters: number
  calls: number
  byCall: string
  ms: number
}

const rows: Row[] = []
const ROOT = process.cwd()

function snapshot(): Record<string, number> {
  return {...awsCallStats.byCommand}
}

function diff(before: Record<string, number>): {calls: number; byCall: string} {
  const counts = Object.entries(awsCallStats.byCommand)
    .map(([name, n]) => [name, n - (before[name] ?? 0)] as const)
    .filter(([, n]) => n > 0)
  return {calls: counts.reduce((s, [, n]) => s + n, 0), byCall: counts.map(([name, n]) => `${name} ${n}`).join(', ')}
}

async function measure(operation: string, instances: number, clusters: number, fn: () => Promise<unknown>): Promise<void> {
  const before = snapshot()
  const started = performance.now()
  await fn()
  rows.push({view: 'provider', operation, instances, clusters, ...diff(before), ms: performance.now() - started})
}

function cli(operation: string, instances: number, clusters: number, args: string[], env: Record<string, string>): void {
  const started = performance.now()
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {env: {...process.env, ...env, CMS_DEBUG: '1'}, encoding: 'utf8', timeout: 300_000})
  const ms = performance.now() - started
  if (r.status !== 0) throw new Error(`cms ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  const counts = new Map<string, number>()
  for (const m of r.stderr.matchAll(/^aws: (\w+) \(/gm)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1)
  const calls = [...counts.values()].reduce((s, n) => s + n, 0)
  rows.push({view: 'CLI', operation, instances, clusters, calls, byCall: [...counts].map(([k, n]) => `${k} ${n}`).join(', '), ms})
}

async function main(): Promise<void> {
  const emulator = await startEmulator()
  const home = mkdtempSync(join(tmpdir(), 'cms-bench-aws-'))
  process.env.CMS_HOME = home
  for (const [k, v] of Object.entries(emulator.env)) process.env[k] = v
  // No Docker for cms here: `list` must not look at (or SSH to) anyone's container clusters.
  const cliEnv = {...emulator.env, CMS_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
  try {
    for (const n of [1, 16]) {
      await emulator.reset()
      const {subnetId} = await loopbackNetwork(emulator.ec2)
      const knownHosts = new KnownHosts({ownFile: join(home, 'known_hosts'), userFiles: []})
      const fresh = () => new AwsProvider({region: 'us-east-1', connect: 'private'}, knownHosts)
      const name = `bench-${n}`
      await measure('create', n, 1, async () => {
        const p = fresh()
        const existing = await p.observe(name)
        await p.provision(name, {engine: 'spark', existing, total: n, packages: SPARK_HOST_PACKAGES, launch: {subnet: subnetId}})
      })
      await measure('list', n, 1, () => fresh().listClusters())
      // Three more clusters: list stays one call whatever their number.
      for (const extra of ['bench-a', 'bench-b', 'bench-c']) {
        const p = fresh()
        await p.provision(extra, {engine: 'spark', existing: await p.observe(extra), total: 1, launch: {subnet: subnetId}})
      }
      await measure('list', n + 3, 4, () => fresh().listClusters())
      await measure('kill', n, 1, async () => {
        const p = fresh()
        await p.destroy(name, await p.observe(name))
      })
      // The same through the CLI, on a cluster of the same size.
      const cliName = `bench-cli-${n}`
      const p = fresh()
      await p.provision(cliName, {engine: 'spark', existing: await p.observe(cliName), total: n, launch: {subnet: subnetId}})
      cli('cluster list --json', n + 3, 4, ['cluster', 'list', '--json', '--connect-timeout', '1'], cliEnv)
      cli('cluster kill --yes', n, 1, ['cluster', 'kill', '-n', cliName, '--yes', '--region', 'us-east-1'], cliEnv)
    }
  } finally {
    await emulator.stop()
    rmSync(home, {recursive: true, force: true})
  }

  const header = ['view', 'operation', 'instances', 'clusters', 'API calls', 'wall ms', 'calls by operation']
  const table = rows.map((r) => [r.view, r.operation, String(r.instances), String(r.clusters), String(r.calls), r.ms.toFixed(0), r.byCall])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
  console.log(line(header))
  for (const r of table) console.log(line(r))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
