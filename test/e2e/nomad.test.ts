import {existsSync, mkdtempSync, statSync, writeFileSync} from 'node:fs'
import {request} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execFileSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, waitUntil} from './helpers.js'
import {s3NomadCases} from './s3-nomad.cases.js'

const NAME = process.env.CMS_E2E_NOMAD_NAME ?? 'e2e-nomad'
const SPARK_DIST = process.env.CMS_SPARK_DIST
const NOMAD_DIST = process.env.CMS_NOMAD_DIST
// HDFS beside Nomad (--hdfs) when the Hadoop runtime is built and a Spark runtime ships for job specs.
const HDFS = Boolean(process.env.CMS_HADOOP_DIST && SPARK_DIST)

interface NomadNode {
  ID: string
  Name: string
  Address: string
  Status: string
  SchedulingEligibility: string
}

interface NomadAlloc {
  ID: string
  NodeName: string
  ClientStatus: string
  DesiredStatus: string
}

/**
 * Nomad's own HTTP API on the head container (a host this test made), with the cluster's CA and cms's client
 * certificate read from the head; with the management token unless told not to; JSON parsed unless `raw`.
 */
async function nomadApi<T>(headIp: string, path: string, opts: {token?: boolean; raw?: boolean} = {}): Promise<{status: number; body: T}> {
  const dir = `/root/.cms/clusters/${NAME}/nomad`
  const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
  const read = (file: string) => docker('exec', head.name, 'cat', `${dir}/${file}`)
  const [ca, cert, key, token] = await Promise.all([read('tls/ca.pem'), read('secrets/cli.pem'), read('secrets/cli-key.pem'), read('secrets/management.token')])
  return new Promise((resolve, reject) => {
    const req = request(
      {host: headIp, port: 4646, path, ca, cert, key, servername: 'server.global.nomad', headers: opts.token === false ? {} : {'X-Nomad-Token': token.trim()}, timeout: 15_000},
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body: (!opts.raw && /^[[{"]/.test(body) ? JSON.parse(body) : body) as T}))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const batchJob = (name: string, script: string, count = 3) => `
variable "count" {
  type    = number
  default = ${count}
}
job "${name}" {
  type = "batch"
  group "g" {
    count = var.count
    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }
    restart {
      attempts = 0
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", ${JSON.stringify(script)}]
      }
    }
  }
}
`

describe.skipIf(!NOMAD_DIST)('nomad engine on docker hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  const jobs = mkdtempSync(join(tmpdir(), 'cms-e2e-nomad-'))
  let headIp = ''

  beforeAll(async () => {
    await removeClusterContainers(NAME)
    writeFileSync(join(jobs, 'hello.hcl'), batchJob('hello', 'echo CMS-NOMAD-HELLO from $(hostname); echo CMS-NOMAD-STDERR >&2'))
    writeFileSync(join(jobs, 'fails.hcl'), batchJob('fails', 'echo about to fail; exit 3', 1))
    writeFileSync(join(jobs, 'bad.hcl'), 'job "bad" {\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config { command = }\n    }\n  }\n}\n')
    writeFileSync(
      join(jobs, 'long.hcl'),
      `job "long" {\n  type = "service"\n  group "g" {\n    constraint {\n      attribute = "\${meta.cms.role}"\n      value     = "worker"\n    }\n    task "t" {\n      driver = "raw_exec"\n      config {\n        command = "/bin/sleep"\n        args    = ["3600"]\n      }\n    }\n  }\n}\n`,
    )
  })

  afterAll(async () => {
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('create makes 3 hosts; Nomad reports 3 ready, eligible nodes, a leader, raw_exec healthy', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'nomad', '--hosts', '3', ...(SPARK_DIST ? ['--spark-dist', SPARK_DIST] : []), ...(HDFS ? ['--hdfs'] : []), '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const containers = await labelledContainers(NAME)
    expect(containers).toHaveLength(3)
    headIp = containers.find((c) => c.role === 'head')!.ip
    const nodes = (await nomadApi<NomadNode[]>(headIp, '/v1/nodes')).body
    expect(nodes.map((n) => n.Address).sort()).toEqual(containers.map((c) => c.ip).sort())
    expect(nodes.every((n) => n.Status === 'ready' && n.SchedulingEligibility === 'eligible')).toBe(true)
    expect((await nomadApi<string>(headIp, '/v1/status/leader')).body).toBe(`${headIp}:4647`)
    const node = (await nomadApi<{Drivers: Record<string, {Healthy: boolean}>}>(headIp, `/v1/node/${nodes[0]!.ID}`)).body
    expect(node.Drivers.raw_exec?.Healthy).toBe(true)
    const report = JSON.parse(r.stdout)
    expect(report.cluster.health).toBe('healthy')
    expect(report.transfer.uploadRatio).toBeLessThanOrEqual(1.1)
  })

  it('is locked down: no token, no client certificate, no plain HTTP, no public listener', async () => {
    expect((await nomadApi(headIp, '/v1/nodes', {token: false})).status).toBe(403)
    expect((await nomadApi(headIp, '/v1/jobs', {token: false})).status).toBe(403)
    // Without a client certificate the TLS handshake itself is refused (verify_https_client).
    const noCert = await new Promise<string>((resolve) => {
      const req = request({host: headIp, port: 4646, path: '/v1/status/leader', rejectUnauthorized: false, timeout: 10_000}, (res) => resolve(`HTTP ${res.statusCode}`))
      req.on('error', (e) => resolve(e.message))
      req.end()
    })
    expect(noCert).not.toMatch(/^HTTP 200/)
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    const listeners = await docker('exec', head.name, 'sh', '-c', "ss -ltnH | awk '{print $4}'")
    for (const port of ['4646', '4647', '4648', '4656']) {
      const bound = listeners.split('\n').filter((l) => l.endsWith(`:${port}`))
      expect(bound.length, `port ${port}: ${listeners}`).toBeGreaterThan(0)
      for (const l of bound) expect(l).toBe(`${headIp}:${port}`)
    }
    const modes = await docker('exec', head.name, 'sh', '-c', `stat -c "%a %n" /root/.cms/clusters/${NAME}/nomad/secrets/* /root/.cms/clusters/${NAME}/nomad/tls/*-key.pem /root/.cms/clusters/${NAME}/nomad/server.hcl`)
    for (const line of modes.split('\n')) expect(line).toMatch(/^600 /)
  })

  it('an HCL batch job with count 3 spreads over the nodes, --wait exits 0, its output is in job logs', async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, join(jobs, 'hello.hcl'), '--wait', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).jobs[0]).toMatchObject({id: 'hello', state: 'SUCCEEDED', kind: 'nomad'})
    const allocs = (await nomadApi<NomadAlloc[]>(headIp, '/v1/job/hello/allocations')).body
    expect(allocs).toHaveLength(3)
    expect(allocs.every((a) => a.ClientStatus === 'complete')).toBe(true)
    expect(new Set(allocs.map((a) => a.NodeName)).size).toBe(3)
    const logs = await cms(['job', 'logs', '-n', NAME, 'hello'], env)
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stdout.match(/CMS-NOMAD-HELLO/g)).toHaveLength(3)
    expect(logs.stderr).toContain('CMS-NOMAD-STDERR')
  })

  it('--var sets HCL variables; a failing job makes --wait exit non-zero and Nomad reports the failure', async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, join(jobs, 'fails.hcl'), '--var', 'count=2', '--wait', '--json'], env)
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).jobs[0].state).toBe('FAILED')
    const allocs = (await nomadApi<NomadAlloc[]>(headIp, '/v1/job/fails/allocations')).body
    expect(allocs).toHaveLength(2)
    expect(allocs.every((a) => a.ClientStatus === 'failed')).toBe(true)
  })

  it("a bad HCL file exits 2 with Nomad's own parse error and registers nothing", async () => {
    const before = (await nomadApi<Array<{ID: string}>>(headIp, '/v1/jobs')).body.map((j) => j.ID).sort()
    const r = await cms(['cluster', 'submit', '-n', NAME, join(jobs, 'bad.hcl'), join(jobs, 'hello.hcl')], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/bad\.hcl:5,\d+/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect((await nomadApi<Array<{ID: string}>>(headIp, '/v1/jobs')).body.map((j) => j.ID).sort()).toEqual(before)
  })

  it('periodic and parameterized jobs pass through; job list shows the next periodic launch', async () => {
    writeFileSync(join(jobs, 'nightly.hcl'), 'job "nightly" {\n  type = "batch"\n  periodic {\n    crons            = ["30 4 * * *"]\n    time_zone        = "UTC"\n    prohibit_overlap = true\n  }\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config {\n        command = "/bin/true"\n      }\n    }\n  }\n}\n')
    writeFileSync(join(jobs, 'on-demand.hcl'), 'job "on-demand" {\n  type = "batch"\n  parameterized {\n    meta_required = ["input"]\n  }\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config {\n        command = "/bin/true"\n      }\n    }\n  }\n}\n')
    const r = await cms(['cluster', 'submit', '-n', NAME, join(jobs, 'nightly.hcl'), join(jobs, 'on-demand.hcl'), '--wait', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const periodic = (await nomadApi<{Periodic: {Enabled: boolean}}>(headIp, '/v1/job/nightly')).body
    expect(periodic.Periodic.Enabled).toBe(true)
    const parameterized = (await nomadApi<{ParameterizedJob: {MetaRequired: string[]}}>(headIp, '/v1/job/on-demand')).body
    expect(parameterized.ParameterizedJob.MetaRequired).toEqual(['input'])
    const list = JSON.parse((await cms(['job', 'list', '-n', NAME, '--json'], env)).stdout)
    const nightly = list.jobs.find((j: {id: string}) => j.id === 'nightly')
    expect(nightly).toMatchObject({scheduled: true, type: 'batch'})
    expect(nightly.nextLaunch).toMatch(/T04:30:00\.000Z$/)
  })

  it.skipIf(!HDFS)('--hdfs: a portable word count reads its input from HDFS and writes its result there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-e2e-nomad-hdfs-'))
    writeFileSync(join(dir, 'input.txt'), 'to be or not to be\n')
    expect((await cms(['cluster', 'put', '-n', NAME, join(dir, 'input.txt'), '/wc/input.txt'], env)).code).toBe(0)
    // Paths without a scheme are on the cluster's HDFS (spark.hadoop.fs.defaultFS in the task's spark-submit).
    const r = await cms(['cluster', 'submit', '-n', NAME, join(ROOT, 'test/e2e/fixtures/wordcount.py'), '--wait', '--', '/wc/input.txt', '/wc/out'], env)
    expect(r.code, r.stderr).toBe(0)
    const webhdfs = (path: string, op: string) => fetch(`http://${headIp}:9870/webhdfs/v1${path}?op=${op}&user.name=root`, {signal: AbortSignal.timeout(15_000)})
    const parts = ((await (await webhdfs('/wc/out', 'LISTSTATUS')).json()) as {FileStatuses: {FileStatus: Array<{pathSuffix: string}>}}).FileStatuses.FileStatus
    let text = ''
    for (const p of parts.filter((x) => x.pathSuffix.startsWith('part-'))) text += await (await webhdfs(`/wc/out/${p.pathSuffix}`, 'OPEN')).text()
    expect(Object.fromEntries(text.trim().split('\n').map((l) => l.split('\t')))).toEqual({to: '2', be: '2', or: '1', not: '1'})
    const info = JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout)
    expect(info.hdfs.liveDataNodes).toBe(3)
  })

  it('the native nomad CLI works through cms cluster tunnel', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'cms-e2e-nomadbin-'))
    execFileSync('python3', ['-c', `import zipfile; zipfile.ZipFile(${JSON.stringify(NOMAD_DIST)}).extractall(${JSON.stringify(bin)})`])
    execFileSync('chmod', ['+x', join(bin, 'nomad')])
    const r = await cms(['cluster', 'tunnel', '-n', NAME, '--', join(bin, 'nomad'), 'job', 'status', '-short', 'hello'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Status\s*=\s*dead/)
    expect(r.stdout + r.stderr).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)
  })

  it('attach registers the cluster by its address as if cms had not made it: submit, job list, info, list work; kill is refused; detach forgets it', async () => {
    const att = `${NAME}-att`.slice(0, 32)
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    const dir = `/root/.cms/clusters/${NAME}/nomad`
    const files = mkdtempSync(join(tmpdir(), 'cms-e2e-nomad-attach-'))
    const copy = async (from: string, to: string) => {
      writeFileSync(join(files, to), await docker('exec', head.name, 'cat', `${dir}/${from}`), {mode: 0o600})
      return join(files, to)
    }
    const attEnv = {
      ...env,
      NOMAD_CACERT: await copy('tls/ca.pem', 'ca.pem'),
      NOMAD_CLIENT_CERT: await copy('secrets/cli.pem', 'cli.pem'),
      NOMAD_CLIENT_KEY: await copy('secrets/cli-key.pem', 'cli-key.pem'),
      NOMAD_TLS_SERVER_NAME: 'server.global.nomad',
      NOMAD_TOKEN: (await docker('exec', head.name, 'cat', `${dir}/secrets/management.token`)).trim(),
    }
    const accessFile = join(home, 'access', `${att}.json`)
    // Bad input: exit 2, nothing written.
    const bad = await cms(['cluster', 'attach', '-n', att, '--nomad-addr', `ftp://${headIp}:4646`], attEnv)
    expect(bad.code).toBe(2)
    expect(existsSync(accessFile)).toBe(false)
    const r = await cms(['cluster', 'attach', '-n', att, '--nomad-addr', `https://${headIp}:4646`, '--json'], attEnv)
    expect(r.code, r.stderr).toBe(0)
    expect(statSync(accessFile).mode & 0o777).toBe(0o600)
    expect(r.stdout + r.stderr).not.toContain(attEnv.NOMAD_TOKEN)
    // Everything after this reads the access file only: no Nomad variable in the environment.
    writeFileSync(join(jobs, 'attached.hcl'), batchJob('attached-hello', 'echo CMS-ATTACHED from $(hostname)', 1))
    const submitted = await cms(['cluster', 'submit', '-n', att, join(jobs, 'attached.hcl'), '--wait', '--json'], env)
    expect(submitted.code, submitted.stderr).toBe(0)
    const summary = (await nomadApi<{Summary: {g: {Complete: number}}}>(headIp, '/v1/job/attached-hello/summary')).body
    expect(summary.Summary.g.Complete).toBe(1)
    const listed = JSON.parse((await cms(['job', 'list', '-n', att, '--json'], env)).stdout) as {jobs: Array<{id: string}>}
    expect(listed.jobs.map((j) => j.id)).toContain('attached-hello')
    expect((await cms(['job', 'logs', '-n', att, 'attached-hello'], env)).stdout).toMatch(/^CMS-ATTACHED from /m)
    const nodes = (await nomadApi<NomadNode[]>(headIp, '/v1/nodes')).body
    const info = JSON.parse((await cms(['cluster', 'info', '-n', att, '--json'], env)).stdout)
    expect(info).toMatchObject({name: att, provider: 'attached', engine: 'nomad', nomad: {leader: `${headIp}:4647`, readyNodes: nodes.filter((n) => n.Status === 'ready').length}})
    expect(info.hosts.map((h: {id: string}) => h.id).sort()).toEqual(nodes.map((n) => n.Name).sort())
    const list = JSON.parse((await cms(['cluster', 'list', '--json'], env)).stdout)
    expect(list.clusters.find((c: {name: string}) => c.name === att)).toMatchObject({provider: 'attached', engine: 'nomad', masterStatus: 'LEADER'})
    for (const args of [['cluster', 'kill', '-n', att, '--yes'], ['cluster', 'remove', '-n', att, nodes[0]!.Name], ['cluster', 'add', '-n', att]]) {
      const refused = await cms(args, env)
      expect(refused.code, args.join(' ')).toBe(2)
      expect(refused.stderr).toMatch(/cms did not make this cluster/)
    }
    expect((await nomadApi<NomadNode[]>(headIp, '/v1/nodes')).body).toHaveLength(nodes.length)
    const detached = await cms(['cluster', 'detach', '-n', att], env)
    expect(detached.code, detached.stderr).toBe(0)
    expect(existsSync(accessFile)).toBe(false)
    expect((await cms(['cluster', 'info', '-n', att], env)).code).toBe(2)
    expect((await nomadApi<string>(headIp, '/v1/status/leader')).body).toBe(`${headIp}:4647`)
  })

  it.skipIf(!SPARK_DIST)("Spark's pi.py as a portable spec runs on Nomad and prints its result", async () => {
    execFileSync('tar', ['-xzf', SPARK_DIST!, '-C', jobs, '--wildcards', '--strip-components=5', '*/examples/src/main/python/pi.py'])
    writeFileSync(join(jobs, 'pi.yaml'), 'app: pi.py\nargs: [4]\npriority: 700\nretries: 1\ndriver: {memory: 512m}\n')
    const r = await cms(['cluster', 'submit', '-n', NAME, join(jobs, 'pi.yaml'), '--wait', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const view = JSON.parse(r.stdout).jobs[0]
    expect(view).toMatchObject({state: 'SUCCEEDED', kind: 'python'})
    const job = (await nomadApi<{Priority: number; TaskGroups: Array<{RestartPolicy: {Attempts: number}; Tasks: Array<{Driver: string}>}>}>(headIp, `/v1/job/${view.id}`)).body
    expect(job.Priority).toBe(70)
    expect(job.TaskGroups[0]!.RestartPolicy.Attempts).toBe(1)
    expect(job.TaskGroups[0]!.Tasks[0]!.Driver).toBe('raw_exec')
    const logs = await cms(['job', 'logs', '-n', NAME, view.id], env)
    expect(logs.stdout).toMatch(/Pi is roughly 3\.\d+/)
  })

  if (SPARK_DIST) s3NomadCases({name: NAME, home, nomadApi: (path) => nomadApi<string>(headIp, path, {raw: true})})

  it('info and list show what Nomad reports; add joins a fourth node', async () => {
    const info = JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout)
    expect(info.nomad.leader).toBe(`${headIp}:4647`)
    expect(info.hosts.map((h: {node?: {status: string; drivers: string[]}}) => [h.node?.status, h.node?.drivers])).toEqual(Array(3).fill(['ready', ['raw_exec']]))
    const list = JSON.parse((await cms(['cluster', 'list', '--json'], env)).stdout)
    expect(list.clusters.find((c: {name: string}) => c.name === NAME)).toMatchObject({engine: 'nomad', masterStatus: 'LEADER', aliveWorkers: 3})
    const r = await cms(['cluster', 'add', '-n', NAME, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).transfer.uploadedBytes).toBe(0)
    const nodes = (await nomadApi<NomadNode[]>(headIp, '/v1/nodes')).body
    expect(nodes.filter((n) => n.Status === 'ready')).toHaveLength(4)
  })

  it('a host that died comes back: create again restarts it and its agent, Nomad reports it ready', async () => {
    const victim = (await labelledContainers(NAME)).find((c) => c.role === 'worker')!
    await docker('kill', victim.name)
    await waitUntil('Nomad to see the node down', async () => (await nomadApi<NomadNode[]>(headIp, '/v1/nodes')).body.some((n) => n.Name === victim.name && n.Status === 'down'), 180_000)
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(1)
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'nomad'], env)
    expect(r.code, r.stderr).toBe(0)
    const nodes = (await nomadApi<NomadNode[]>(headIp, '/v1/nodes')).body
    expect(nodes.filter((n) => n.Status === 'ready')).toHaveLength(4)
  })

  it('remove drains a node running a long allocation: Nomad moves it elsewhere and the node leaves', async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, join(jobs, 'long.hcl'), '--wait'], env)
    expect(r.code, r.stderr).toBe(0)
    const running = (await nomadApi<NomadAlloc[]>(headIp, '/v1/job/long/allocations')).body.find((a) => a.ClientStatus === 'running')!
    expect(running).toBeDefined()
    const removed = await cms(['cluster', 'remove', '-n', NAME, running.NodeName], env)
    expect(removed.code, removed.stderr).toBe(0)
    await waitUntil('the allocation to run on another node', async () => {
      const allocs = (await nomadApi<NomadAlloc[]>(headIp, '/v1/job/long/allocations')).body
      return allocs.some((a) => a.ClientStatus === 'running' && a.NodeName !== running.NodeName)
    })
    const nodes = (await nomadApi<NomadNode[]>(headIp, '/v1/nodes')).body
    expect(nodes.map((n) => n.Name)).not.toContain(running.NodeName)
    expect((await labelledContainers(NAME)).map((c) => c.name)).not.toContain(running.NodeName)
  })

  it('job kill stops the job; Nomad reports it stopped and its allocations complete', async () => {
    const r = await cms(['job', 'kill', '-n', NAME, 'long', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).state).toBe('KILLED')
    const job = (await nomadApi<{Stop: boolean}>(headIp, '/v1/job/long')).body
    expect(job.Stop).toBe(true)
    const allocs = (await nomadApi<NomadAlloc[]>(headIp, '/v1/job/long/allocations')).body
    expect(allocs.every((a) => a.ClientStatus !== 'running')).toBe(true)
  })

  it('remove refuses the Nomad server; kill leaves no labelled container and no network', async () => {
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    expect((await cms(['cluster', 'remove', '-n', NAME, head.name], env)).code).toBe(2)
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(await labelledContainers(NAME)).toHaveLength(0)
    expect(await docker('network', 'ls', '-q', '--filter', `label=cms.cluster=${NAME}`)).toBe('')
  })
})
