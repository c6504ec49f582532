import {randomBytes} from 'node:crypto'
import {request} from 'node:https'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, ROOT} from './helpers.js'
import {networkGateway, startS3Store, type S3Store} from './s3-store.js'

// s3a:// paths on a Nomad cluster (the spec runs as a raw_exec task with Spark in local mode) against moto's S3 on
// the cluster network's gateway: the credentials go to a Nomad variable (nomad/jobs/ID) that a template renders
// into the task's secrets dir; the job as Nomad stores it, `cms` output and the hosts' files never hold them, and
// `job kill --purge` deletes the variable.
const NAME = 'e2e-s3n'
const SPARK_DIST = process.env.CMS_SPARK_DIST
const NOMAD_DIST = process.env.CMS_NOMAD_DIST
const BUCKET = 'cms-e2e'

/** Nomad's own HTTP API on the head, with the cluster's CA, cms's client certificate and the management token. */
async function nomadApi(path: string, method = 'GET'): Promise<{status: number; body: string}> {
  const dir = `/root/.cms/clusters/${NAME}/nomad`
  const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
  const read = (file: string) => docker('exec', head.name, 'cat', `${dir}/${file}`)
  const [ca, cert, key, token] = await Promise.all([read('tls/ca.pem'), read('secrets/cli.pem'), read('secrets/cli-key.pem'), read('secrets/management.token')])
  return new Promise((resolve, reject) => {
    const req = request({host: head.ip, port: 4646, path, method, ca, cert, key, servername: 'server.global.nomad', headers: {'X-Nomad-Token': token.trim()}, timeout: 15_000}, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe.skipIf(!SPARK_DIST || !NOMAD_DIST)('s3a:// paths on a Nomad cluster', () => {
  const {home, cleanup} = makeCmsHome()
  const secrets = {
    AWS_ACCESS_KEY_ID: `CMSE2E${randomBytes(7).toString('hex').toUpperCase()}`,
    AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64'),
  }
  const env: Record<string, string> = {
    CMS_HOME: home,
    ...secrets,
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: '/nonexistent/cms-e2e-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/cms-e2e-aws-credentials',
  }
  const values = Object.values(secrets)
  const expectNoSecret = (text: string, where: string) => {
    for (const v of values) expect(text.includes(v), `a credential appears in ${where}`).toBe(false)
  }
  let store: S3Store
  let id = ''

  beforeAll(async () => {
    await removeClusterContainers(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'nomad', '--hosts', '2', '--spark-dist', SPARK_DIST!, '--nomad-dist', NOMAD_DIST!], env)
    if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`)
    store = await startS3Store(await networkGateway(`cms-${NAME}`))
    await store.createBucket(BUCKET)
    await store.put(BUCKET, 'in/words.txt', 'to be or not to be\nthat is the question\n')
  })

  afterAll(async () => {
    await store?.stop()
    await cms(['cluster', 'kill', '-n', NAME, '--yes'], env).catch(() => undefined)
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('a Python spec writes s3a:// output and reads it back', async () => {
    const spec = join(home, 'wordcount.yaml')
    writeFileSync(spec, `name: s3wc\napp: ${join(ROOT, 'test', 'e2e', 'fixtures', 's3_wordcount.py')}\ndriver: {memory: 512m}\n`)
    const r = await cms(['cluster', 'submit', '-n', NAME, spec, '--s3-endpoint', store.url, '--wait', '--json', '--', `s3a://${BUCKET}/in/words.txt`, `s3a://${BUCKET}/out/wordcount`], env)
    expectNoSecret(r.stdout + r.stderr, 'the output of cluster submit')
    const job = JSON.parse(r.stdout).jobs[0]
    id = job.id
    const logs = await cms(['job', 'logs', '-n', NAME, id], env)
    expectNoSecret(logs.stdout + logs.stderr, 'cms job logs')
    expect(r.code, r.stderr + logs.stdout + logs.stderr).toBe(0)
    expect(job.state).toBe('SUCCEEDED')
    expect(logs.stdout + logs.stderr).toContain(`read back 8 words from s3a://${BUCKET}/out/wordcount`)
    const keys = await store.list(BUCKET, 'out/wordcount/')
    expect(keys).toContain('out/wordcount/_SUCCESS')
    expect(keys.some((k) => /\/part-00000/.test(k))).toBe(true)
  })

  it('the credentials are in the Nomad variable only: not in the job, its status, or any file but the task secret', async () => {
    const stored = await nomadApi(`/v1/job/${encodeURIComponent(id)}`)
    expect(stored.status).toBe(200)
    expectNoSecret(stored.body, "the job as Nomad stores it")
    const task = JSON.parse(stored.body).TaskGroups[0].Tasks[0]
    expect(task.Templates[0].DestPath).toBe('secrets/s3-credentials')
    expect(task.Env.AWS_SHARED_CREDENTIALS_FILE).toBe('${NOMAD_SECRETS_DIR}/s3-credentials')
    expect((await nomadApi(`/v1/var/nomad/jobs/${encodeURIComponent(id)}`)).status).toBe(200)
    const status = await cms(['job', 'status', '-n', NAME, id, '--json'], env)
    expectNoSecret(status.stdout, 'cms job status --json')
    for (const c of await labelledContainers(NAME)) {
      // The rendered file sits in the allocation's secrets dir; nothing else may hold a credential.
      const found = await docker('exec', c.name, 'sh', '-c', 'grep -rlF -e "$1" -e "$2" /root /home /tmp /var/tmp 2>/dev/null | grep -v "/secrets/s3-credentials$" || true', 'sh', ...values)
      expect(found, `files on ${c.name} holding a credential`).toBe('')
      const rendered = await docker('exec', c.name, 'sh', '-c', `find / -xdev -path '*/spark/secrets/s3-credentials' -exec stat -c '%a %n' {} + 2>/dev/null || true`)
      for (const line of rendered.split('\n').filter(Boolean)) expect(line).toMatch(/^600 /)
    }
  })

  it('job kill --purge deletes the variable', async () => {
    const r = await cms(['job', 'kill', '-n', NAME, id, '--purge', '--json'], env)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect((await nomadApi(`/v1/var/nomad/jobs/${encodeURIComponent(id)}`)).status).toBe(404)
  })
})
