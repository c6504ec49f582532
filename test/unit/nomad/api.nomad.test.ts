/**
 * NomadApi against a real Nomad (the testbed's build, `nomad agent -dev` on 127.0.0.1 with ACLs and mutual TLS).
 * Skipped with the reason when CMS_NOMAD_DIST is not set (scripts/testbed.sh and scripts/test.sh set it).
 */
import {randomUUID} from 'node:crypto'
import {connect} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {hclVariables, NomadApi, NomadApiError} from '../../../src/engines/nomad/api.js'
import type {Indexed} from '../../../src/engines/nomad/api.js'
import {nomadHttp} from '../../../src/engines/nomad/http-transport.js'
import type {NomadHttp} from '../../../src/engines/nomad/http-transport.js'
import {createCertificateAuthority, issueCertificate} from '../../../src/engines/nomad/pki.js'
import {NOMAD_S3_ITEM, nomadJobForSpec, nomadS3VariablePath} from '../../../src/jobs/nomad-translate.js'
import {credentialsFileText} from '../../../src/jobs/s3.js'
import {parseJobSpec} from '../../../src/jobs/spec.js'
import {DevAgent, nomadSkipReason, TRICKY_META} from './dev-agent.js'

const skip = nomadSkipReason()
if (skip) console.warn(`skipping the Nomad API tests: ${skip}`)

describe.skipIf(skip !== undefined)('NomadApi against nomad agent -dev (ACLs, mutual TLS)', () => {
  const agent = new DevAgent()
  let http: NomadHttp
  let anonymous: NomadApi
  let api: NomadApi
  const secret = randomUUID()

  const tls = () => ({ca: agent.ca.certificatePem, cert: agent.cli.certificatePem, key: agent.cli.privateKeyPem, servername: agent.servername})

  beforeAll(async () => {
    await agent.start()
    http = nomadHttp({host: '127.0.0.1', port: agent.ports.http, tls: tls()})
    anonymous = new NomadApi({transport: http.transport, stream: http.stream})
    // Leader elected (the endpoint is open without a token).
    const deadline = Date.now() + 60_000
    for (;;) {
      const leader = await anonymous.leader().catch(() => '')
      if (leader) break
      if (!agent.alive || Date.now() > deadline) throw new Error(`no Nomad leader within 60 s:\n${agent.tail()}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }, 90_000)

  afterAll(async () => {
    http?.close()
    await agent.stop()
  }, 30_000)

  it('bootstraps ACLs once with the chosen secret; without a token Nomad answers 403', async () => {
    const denied = await anonymous.nodes().catch((e: unknown) => e)
    expect(denied).toBeInstanceOf(NomadApiError)
    expect((denied as NomadApiError).status).toBe(403)
    expect((denied as NomadApiError).message).toMatch(/HTTP 403.*Permission denied/)

    const token = await anonymous.aclBootstrap(secret)
    expect(token.SecretID).toBe(secret)
    expect(token.Type).toBe('management')
    const again = await anonymous.aclBootstrap().catch((e: unknown) => e)
    expect((again as NomadApiError).status).toBe(400)
    expect((again as NomadApiError).nomadMessage).toMatch(/ACL bootstrap already done/)

    const wrong = new NomadApi({transport: http.transport, token: randomUUID()})
    expect(((await wrong.nodes().catch((e: unknown) => e)) as NomadApiError).status).toBe(403)
    api = new NomadApi({transport: http.transport, stream: http.stream, token: secret})
    expect((await api.peers()).length).toBe(1)
  })

  it('lists the node ready with raw_exec healthy, its resources and details', async () => {
    const ready = await waitFor(async () => {
      const {value} = await api.nodes({resources: true})
      return value.length === 1 && value[0]!.Status === 'ready' ? value : undefined
    }, 60_000, () => agent.tail())
    const n = ready[0]!
    expect(n.Name).toBe('devtest')
    expect(n.SchedulingEligibility).toBe('eligible')
    expect(n.Drivers.raw_exec).toMatchObject({Detected: true, Healthy: true})
    // driver.allowlist: nothing else is loaded.
    expect(Object.keys(n.Drivers)).toEqual(['raw_exec'])
    expect(n.NodeResources?.Memory?.MemoryMB).toBeGreaterThan(0)
    const {value: detail, index} = await api.node(n.ID)
    expect(index).toBeGreaterThan(0)
    expect(detail.HTTPAddr).toBe(`127.0.0.1:${agent.ports.http}`)
    expect(detail.Meta?.['cms.host']).toBe('devtest')
    expect(detail.Meta?.['cms.note']).toBe(TRICKY_META)
    expect(detail.Attributes['unique.platform.aws.instance-id']).toBeUndefined()
    expect(detail.NodeResources.Cpu?.CpuShares).toBeGreaterThan(0)
  })

  it('parses HCL2 with variables, converting strings to the declared types', async () => {
    const job = await api.parseJob(BATCH, {variables: hclVariables({message: 'say "hi" ${nope} %{x}', n: '2'})})
    expect(job.ID).toBe('batch-ok')
    expect(job.Type).toBe('batch')
    expect(job.TaskGroups![0]!.Count).toBe(2)
    expect((job.TaskGroups![0]!.Tasks[0]!.Config as {args: string[]}).args[2]).toBe('say "hi" ${nope} %{x}')
    // Canonicalized: defaults filled in.
    expect(job.Priority).toBe(50)
  })

  it('keeps Nomad\'s own parse error with file, line and column', async () => {
    const err = (await api.parseJob('job "x" {\n  group "g" {\n    count = \n  }\n}\n').catch((e: unknown) => e)) as NomadApiError
    expect(err).toBeInstanceOf(NomadApiError)
    expect(err.status).toBe(400)
    expect(err.nomadMessage).toMatch(/^Failed to parse job: input\.hcl:3,\d+-\d+,\d+: Invalid expression/)
    const typeErr = (await api.parseJob(BATCH, {variables: hclVariables({n: 'many'})}).catch((e: unknown) => e)) as NomadApiError
    expect(typeErr.status).toBe(400)
    expect(typeErr.nomadMessage).toMatch(/a number is required/)
  })

  it('refuses an invalid job at registration with Nomad\'s validation message', async () => {
    const err = (await api.registerJob({ID: 'no-groups', Name: 'no-groups', Type: 'batch', Priority: 50, TaskGroups: []}).catch((e: unknown) => e)) as NomadApiError
    expect(err).toBeInstanceOf(NomadApiError)
    expect(err.status).toBe(500)
    expect(err.nomadMessage).toMatch(/Missing job task groups/)
    expect(((await api.job('no-groups').catch((e: unknown) => e)) as NomadApiError).status).toBe(404)
  })

  it('runs a batch job: blocking queries follow the evaluation and allocations; logs read back', async () => {
    const job = await api.parseJob(BATCH, {variables: hclVariables({message: 'hello from cms', n: '2'})})
    const reg = await api.registerJob(job, {submission: {source: BATCH, format: 'hcl2'}})
    expect(reg.EvalID).toMatch(/^[0-9a-f-]{36}$/)

    const ev = await blockUntil((o) => api.evaluation(reg.EvalID, o), (e) => e.Status === 'complete', 30_000)
    expect(ev.FailedTGAllocs ?? null).toBeNull()
    expect(ev.BlockedEval ?? '').toBe('')
    const summary = await blockUntil((o) => api.jobSummary('batch-ok', o), (s) => s.Summary.g!.Complete === 2, 60_000)
    expect(summary.Summary.g).toMatchObject({Complete: 2, Failed: 0, Running: 0})
    expect((await api.job('batch-ok')).value.Status).toBe('dead')

    const {value: allocs} = await api.jobAllocations('batch-ok')
    expect(allocs).toHaveLength(2)
    const outs: string[] = []
    for (const a of allocs) {
      expect(a.ClientStatus).toBe('complete')
      const terminated = a.TaskStates!.t!.Events!.find((e) => e.Type === 'Terminated')
      expect(terminated?.ExitCode).toBe(0)
      outs.push(await api.logs(a.ID, 't', 'stdout'))
      expect(await api.logs(a.ID, 't', 'stderr')).toBe('to stderr\n')
    }
    expect(outs.sort()).toEqual(['hello from cms 0\n', 'hello from cms 1\n'])
    const a0 = allocs.find((a) => a.Name.endsWith('[0]'))!
    expect(await api.logs(a0.ID, 't', 'stdout', {offset: 6})).toBe('from cms 0\n')
    expect(await api.logs(a0.ID, 't', 'stdout', {origin: 'end', offset: 2})).toBe('0\n')
    const {value: detail} = await api.allocation(a0.ID)
    expect(detail.Job.ID).toBe('batch-ok')
    expect(detail.NodeName).toBe('devtest')
    expect((await api.evaluationAllocations(reg.EvalID)).value.map((a) => a.ID).sort()).toEqual(allocs.map((a) => a.ID).sort())
    expect((await api.jobEvaluations('batch-ok')).value.map((e) => e.ID)).toContain(reg.EvalID)

    const listed = (await api.jobs({prefix: 'batch-'})).value
    expect(listed.map((j) => [j.ID, j.Status, j.JobSummary?.Summary.g?.Complete])).toEqual([['batch-ok', 'dead', 2]])
  })

  it('reports a failing task with its exit code', async () => {
    const job = await api.parseJob(FAILING)
    await api.registerJob(job)
    const s = await blockUntil((o) => api.jobSummary('fails', o), (x) => x.Summary.g!.Failed === 1, 60_000)
    expect(s.Summary.g!.Complete).toBe(0)
    const a = (await api.jobAllocations('fails')).value[0]!
    expect(a.ClientStatus).toBe('failed')
    expect(a.TaskStates!.t!.Failed).toBe(true)
    expect(a.TaskStates!.t!.Events!.find((e) => e.Type === 'Terminated')?.ExitCode).toBe(3)
  })

  it('shows a placement failure in the evaluation instead of waiting', async () => {
    const job = await api.parseJob(TOO_BIG)
    const reg = await api.registerJob(job)
    const ev = await blockUntil((o) => api.evaluation(reg.EvalID, o), (e) => e.Status === 'complete', 30_000)
    expect(ev.BlockedEval).not.toBe('')
    expect(ev.FailedTGAllocs?.g?.NodesExhausted).toBe(1)
    expect(ev.FailedTGAllocs?.g?.DimensionExhausted).toEqual({memory: 1})
    expect(ev.QueuedAllocations).toEqual({g: 1})
    const stopped = await api.stopJob('too-big', {purge: true})
    expect(stopped.EvalID).toMatch(/^[0-9a-f-]{36}$/)
    expect(((await api.job('too-big').catch((e: unknown) => e)) as NomadApiError).status).toBe(404)
  })

  it('follows a running task\'s log as it grows, then stops the job and the allocation ends', async () => {
    await api.registerJob(await api.parseJob(SERVICE))
    const running = await blockUntil(
      (o) => api.jobAllocations('ticker', o),
      (as) => as.some((a) => a.ClientStatus === 'running'),
      60_000,
    )
    const alloc = running.find((a) => a.ClientStatus === 'running')!
    const abort = new AbortController()
    let text = ''
    let chunks = 0
    let firstTicks = 0
    const started = Date.now()
    for await (const chunk of api.followLogs(alloc.ID, 't', 'stdout', {signal: abort.signal})) {
      text += Buffer.from(chunk).toString('utf8')
      const ticks = (text.match(/tick \d+\n/g) ?? []).length
      if (chunks++ === 0) firstTicks = ticks
      // Two more ticks than the first chunk held: the log arrived as it was written.
      if (ticks >= firstTicks + 2) abort.abort()
      if (Date.now() - started > 30_000) throw new Error(`follow got only ${JSON.stringify(text)} in 30 s`)
    }
    expect(chunks).toBeGreaterThan(1)
    expect(text).toMatch(/^tick 1\ntick 2\n/)

    await api.stopJob('ticker')
    const done = await blockUntil(
      (o) => api.allocation(alloc.ID, o),
      (a) => a.ClientStatus === 'complete',
      30_000,
    )
    expect(done.DesiredStatus).toBe('stop')
    await api.stopJob('ticker', {purge: true})
  })

  it('returns a blocking query after `wait` when nothing changes, with the same index', async () => {
    const first = await api.jobSummary('batch-ok')
    const t0 = Date.now()
    const second = await api.jobSummary('batch-ok', {index: first.index, wait: '1s'})
    const elapsed = Date.now() - t0
    expect(second.index).toBe(first.index)
    expect(elapsed).toBeGreaterThanOrEqual(900)
    expect(elapsed).toBeLessThan(5_000)
    // An abort ends a blocking query early.
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 200)
    await expect(api.jobSummary('batch-ok', {index: first.index, wait: '30s', signal: ac.signal})).rejects.toThrow(/abort/i)
  })

  it('launches a periodic job on demand and finds its child (IDs with "/")', async () => {
    const job = await api.parseJob(PERIODIC)
    expect(job.Periodic).toMatchObject({Enabled: true, Specs: ['0 3 * * *'], SpecType: 'cron'})
    await api.registerJob(job)
    expect((await api.job('nightly')).value.Status).toBe('running')
    const forced = await api.forcePeriodic('nightly')
    expect(forced.EvalID).toMatch(/^[0-9a-f-]{36}$/)
    const children = await blockUntil((o) => api.jobChildren('nightly', o), (c) => c.length === 1, 30_000)
    const childId = children[0]!.ID
    expect(childId).toMatch(/^nightly\/periodic-\d+$/)
    const s = await blockUntil((o) => api.jobSummary(childId, o), (x) => x.Summary.g!.Complete === 1, 60_000)
    expect(s.JobID).toBe(childId)
    const a = (await api.jobAllocations(childId)).value[0]!
    expect(await api.logs(a.ID, 't', 'stdout')).toBe('nightly run\n')
    await api.stopJob('nightly', {purge: true})
  })

  it('dispatches a parameterized job with meta and payload', async () => {
    await api.registerJob(await api.parseJob(PARAMETERIZED))
    const d = await api.dispatchJob('greet', {meta: {who: 'world'}, payload: 'from the payload'})
    expect(d.DispatchedJobID).toMatch(/^greet\/dispatch-\d+-[0-9a-f]+$/)
    await blockUntil((o) => api.jobSummary(d.DispatchedJobID, o), (x) => x.Summary.g!.Complete === 1, 60_000)
    const a = (await api.jobAllocations(d.DispatchedJobID)).value[0]!
    expect(await api.logs(a.ID, 't', 'stdout')).toBe('hello world: from the payload\n')
    await api.stopJob('greet', {purge: true})
  })

  it('stops one allocation and the scheduler replaces it', async () => {
    await api.registerJob(await api.parseJob(SERVICE.replace('"ticker"', '"mover"')))
    const first = (await blockUntil((o) => api.jobAllocations('mover', o), (as) => as.some((a) => a.ClientStatus === 'running'), 60_000))[0]!
    await api.stopAllocation(first.ID)
    const after = await blockUntil(
      (o) => api.jobAllocations('mover', o),
      (as) => as.some((a) => a.ID !== first.ID && a.ClientStatus === 'running'),
      60_000,
    )
    const replacement = after.find((a) => a.ID !== first.ID)!
    expect((await api.allocation(replacement.ID)).value.PreviousAllocation).toBe(first.ID)
    await api.stopJob('mover', {purge: true})
  })

  it('drains a node and toggles its eligibility', async () => {
    const node = (await api.nodes()).value[0]!
    await api.setEligibility(node.ID, false)
    expect((await api.node(node.ID)).value.SchedulingEligibility).toBe('ineligible')
    await api.setEligibility(node.ID, true)
    const r = await api.drainNode(node.ID, {deadlineMs: 60_000, meta: {reason: 'cms test'}})
    expect(r.NodeModifyIndex).toBeGreaterThan(0)
    // Nothing runs there: the drain completes at once and leaves the node ineligible.
    const drained = await blockUntil((o) => api.node(node.ID, o), (n) => n.DrainStrategy === null, 30_000)
    expect(drained.SchedulingEligibility).toBe('ineligible')
    expect(drained.LastDrain).toMatchObject({Status: 'complete', Meta: {reason: 'cms test'}})
    await api.drainNode(node.ID, {deadlineMs: 60_000})
    await api.cancelDrain(node.ID, true)
    const back = (await api.node(node.ID)).value
    expect(back.DrainStrategy).toBeNull()
    expect(back.SchedulingEligibility).toBe('eligible')
  })

  it("a spec job's S3 credentials: a variable at nomad/jobs/ID, rendered by the job's template into its secrets dir (0600); deleted after", async () => {
    const id = 's3wc-20261204-070000-ab12'
    const text = credentialsFileText({accessKeyId: 'AKIATESTONLY', secretAccessKey: 'test/secret+only='})
    await api.putVariable(nomadS3VariablePath(id), {[NOMAD_S3_ITEM]: text})
    // The translation's own job, with the task's command swapped for one that shows what the template rendered.
    const spec = parseJobSpec({app: '/w/wc.py', args: ['s3a://b/in', 's3a://b/out']}, 'test')
    const job = nomadJobForSpec(spec, {jobId: id, sparkHome: '/nonexistent', appPath: '/w/wc.py', remoteJars: [], remoteFiles: [], remotePyFiles: [], s3: {endpoint: 'http://127.0.0.1:9'}}) as any
    const task = job.TaskGroups[0].Tasks[0]
    task.Config = {command: '/bin/sh', args: ['-c', 'stat -c %a "$AWS_SHARED_CREDENTIALS_FILE" && cat "$AWS_SHARED_CREDENTIALS_FILE"']}
    task.Resources = {CPU: 20, MemoryMB: 16}
    job.TaskGroups[0].RestartPolicy = {Attempts: 0, Mode: 'fail'}
    await api.registerJob(job)
    const done = await blockUntil((o) => api.jobSummary(id, o), (x) => x.Summary.app!.Complete + x.Summary.app!.Failed === 1, 60_000)
    const a = (await api.jobAllocations(id)).value[0]!
    expect(done.Summary.app!.Complete, await api.logs(a.ID, 'spark', 'stderr')).toBe(1)
    expect(await api.logs(a.ID, 'spark', 'stdout')).toBe(`600\n${text}`)
    await api.stopJob(id, {purge: true})
    await api.deleteVariable(nomadS3VariablePath(id))
    await api.deleteVariable(nomadS3VariablePath(id)) // gone already: not an error
  })

  it('works over a caller-opened stream (the SSH-forward path) and checks the agent\'s name', async () => {
    const viaStream = nomadHttp({host: '127.0.0.1', port: agent.ports.http, tls: tls(), connect: async () => connect(agent.ports.http, '127.0.0.1')})
    const a = new NomadApi({transport: viaStream.transport, stream: viaStream.stream, token: secret})
    expect((await a.nodes()).value).toHaveLength(1)
    viaStream.close()
    // A wrong expected name, a client certificate from another CA, or none: refused before any HTTP.
    const refused = async (endpointTls: NonNullable<Parameters<typeof nomadHttp>[0]['tls']>) => {
      const h = nomadHttp({host: '127.0.0.1', port: agent.ports.http, tls: endpointTls})
      try {
        return await new NomadApi({transport: h.transport}).leader().then(() => 'answered', (e: Error) => e.message)
      } finally {
        h.close()
      }
    }
    expect(await refused({...tls(), servername: 'client.global.nomad'})).toMatch(/altnames|Hostname/i)
    const otherCa = createCertificateAuthority({commonName: 'another CA', validityDays: 1})
    const foreign = issueCertificate(otherCa, {commonName: 'cli.global.nomad', keyUsages: ['digitalSignature'], extendedKeyUsages: ['clientAuth'], validityDays: 1})
    expect(await refused({...tls(), cert: foreign.certificatePem, key: foreign.privateKeyPem})).not.toBe('answered')
    expect(await refused({ca: agent.ca.certificatePem, servername: agent.servername})).not.toBe('answered')
  })
})

// --- helpers and jobs ------------------------------------------------------------------------------------

async function waitFor<T>(probe: () => Promise<T | undefined>, ms: number, why: () => string): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms:\n${why()}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Blocking queries until `done` holds (each waits up to 5 s for a change), at most `ms` in all. */
async function blockUntil<T>(
  read: (o: {index?: number; wait?: string}) => Promise<Indexed<T>>,
  done: (v: T) => boolean,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms
  let index: number | undefined
  let queries = 0
  for (;;) {
    const r = await read(index === undefined ? {} : {index, wait: '5s'})
    queries++
    if (done(r.value)) return r.value
    if (Date.now() > deadline) throw new Error(`not done after ${ms} ms (${queries} queries): ${JSON.stringify(r.value).slice(0, 500)}`)
    index = r.index
  }
}

const BATCH = `
variable "message" {
  type    = string
  default = "hello"
}
variable "n" {
  type    = number
  default = 1
}
job "batch-ok" {
  type        = "batch"
  datacenters = ["*"]
  group "g" {
    count = var.n
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo \\"$MSG $NOMAD_ALLOC_INDEX\\"; echo to stderr >&2", "\${var.message}"]
      }
      env {
        MSG = var.message
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
`

const FAILING = `
job "fails" {
  type        = "batch"
  datacenters = ["*"]
  group "g" {
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
        args    = ["-c", "echo failing; exit 3"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
`

const TOO_BIG = `
job "too-big" {
  type        = "batch"
  datacenters = ["*"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
      resources {
        cpu    = 20
        memory = 4000000
      }
    }
  }
}
`

const SERVICE = `
job "ticker" {
  type        = "service"
  datacenters = ["*"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done"]
      }
      kill_timeout = "1s"
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
`

const PERIODIC = `
job "nightly" {
  type        = "batch"
  datacenters = ["*"]
  periodic {
    crons            = ["0 3 * * *"]
    prohibit_overlap = true
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/echo"
        args    = ["nightly run"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
`

const PARAMETERIZED = `
job "greet" {
  type        = "batch"
  datacenters = ["*"]
  parameterized {
    payload       = "required"
    meta_required = ["who"]
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      dispatch_payload {
        file = "input.txt"
      }
      config {
        command = "/bin/sh"
        args    = ["-c", "echo \\"hello $NOMAD_META_who: $(cat \${NOMAD_TASK_DIR}/input.txt)\\""]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
`
