import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, ROOT} from './helpers.js'
import {networkGateway, startS3Store, type S3Store} from './s3-store.js'

// s3a:// paths on a Kubernetes cluster against moto's S3 on the cluster network's gateway (pods reach it through
// their node's address on that network): the credentials go into a Secret (NAME-s3) that the driver container and
// every executor pod read through secretKeyRef; the Job and the pods as the API stores them never hold them, and
// `job kill --purge` deletes the Secret. The Spark image gets a tag of its own, so the other tests' cms/spark:VERSION
// is left alone.
const K8S_DIST = process.env.CMS_K8S_DIST
const SPARK_DIST = process.env.CMS_SPARK_DIST
const NAME = 'e2e-s3k'
const IMAGE = 'cms/spark:e2e-s3a'
const BUCKET = 'cms-e2e'
const layout = kubernetesLayout('/root', NAME)

describe.skipIf(!K8S_DIST || !SPARK_DIST)('s3a:// paths on a Kubernetes cluster', () => {
  const {home, cleanup} = makeCmsHome()
  const work = mkdtempSync(join(tmpdir(), 'cms-e2e-s3k-'))
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
    for (const v of values) {
      expect(text.includes(v), `a credential appears in ${where}`).toBe(false)
      expect(text.includes(Buffer.from(v).toString('base64')), `a base64 credential appears in ${where}`).toBe(false)
    }
  }
  let store: S3Store
  let head = ''
  let kubectlBin = ''
  const kubectl = (...args: string[]) => docker('exec', head, kubectlBin, '--kubeconfig', layout.files.adminKubeconfig, '--cache-dir', '/var/tmp/kubectl-cache', ...args)

  beforeAll(async () => {
    await removeClusterContainers(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'kubernetes', '--hosts', '2', '--k8s-dist', K8S_DIST!, '--json'], env, {timeoutMs: 900_000})
    if (r.code !== 0) throw new Error(`cluster create failed: ${r.stderr.slice(-2000)}`)
    head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!.name
    kubectlBin = (await docker('exec', head, 'sh', '-c', 'find / -xdev -type f -name kubectl -perm -u+x 2>/dev/null | head -n 1')).trim()
    const built = await cms(['image', 'build', 'spark', '--spark-dist', SPARK_DIST!, '--tag', IMAGE, '--json'], env, {timeoutMs: 1_800_000})
    if (built.code !== 0) throw new Error(`image build failed: ${built.stderr.slice(-2000)}`)
    const loaded = await cms(['image', 'load', '-n', NAME, IMAGE, '--json'], env, {timeoutMs: 900_000})
    if (loaded.code !== 0) throw new Error(`image load failed: ${loaded.stderr.slice(-2000)}`)
    store = await startS3Store(await networkGateway(`cms-${NAME}`))
    await store.createBucket(BUCKET)
    await store.put(BUCKET, 'in/words.txt', 'to be or not to be\nthat is the question\n')
  })

  afterAll(async () => {
    await store?.stop()
    await cms(['cluster', 'kill', '-n', NAME, '--yes'], env).catch(() => undefined)
    await removeClusterContainers(NAME)
    await docker('image', 'rm', IMAGE).catch(() => undefined)
    cleanup()
    rmSync(work, {recursive: true, force: true})
  })

  it('a Python spec (driver pod, two executor pods) writes s3a:// output and reads it back; only the Secret holds the credentials', async () => {
    writeFileSync(
      join(work, 'wordcount.yaml'),
      [
        `app: ${join(ROOT, 'test', 'e2e', 'fixtures', 's3_wordcount.py')}`,
        `args: [s3a://${BUCKET}/in/words.txt, s3a://${BUCKET}/out/wordcount]`,
        `conf: {spark.kubernetes.container.image: "${IMAGE}"}`,
        'driver: {memory: 512m}',
        'executor: {instances: 2, cores: 1, memory: 512m}',
      ].join('\n'),
    )
    // The executor pods live only while the driver runs: look at them (as the API stores them) meanwhile.
    const submit = cms(['cluster', 'submit', '-n', NAME, join(work, 'wordcount.yaml'), '--s3-endpoint', store.url, '--wait', '--json'], env, {timeoutMs: 900_000})
    let finished = false
    void submit.then(() => (finished = true))
    const executorsSeen = new Set<string>()
    for (let i = 0; i < 900 && !finished; i++) {
      const pods = await kubectl('get', 'pods', '-l', 'spark-role=executor', '-o', 'json').catch(() => '{"items":[]}')
      expectNoSecret(pods, 'an executor pod')
      for (const p of JSON.parse(pods).items as Array<{metadata: {name: string}; spec: {containers: Array<{env?: Array<{name: string; valueFrom?: {secretKeyRef?: {name: string}}}>}>}}>) {
        const refs = (p.spec.containers[0]!.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name)
        if (refs.length > 0) executorsSeen.add(`${p.metadata.name}:${refs.sort().join(',')}`)
      }
      await new Promise((r) => setTimeout(r, 1000))
    }
    const r = await submit
    expectNoSecret(r.stdout + r.stderr, 'the output of cluster submit')
    const job = JSON.parse(r.stdout).jobs[0] as {id: string; state: string}
    const logs = await cms(['job', 'logs', '-n', NAME, job.id], env)
    expect(r.code, r.stderr + logs.stdout + logs.stderr).toBe(0)
    expect(job.state).toBe('SUCCEEDED')
    expect(logs.stdout + logs.stderr).toContain(`read back 8 words from s3a://${BUCKET}/out/wordcount`)
    const keys = await store.list(BUCKET, 'out/wordcount/')
    expect(keys).toContain('out/wordcount/_SUCCESS')
    expect(keys.some((k) => /\/part-00000/.test(k))).toBe(true)
    // Every executor pod named the credentials by reference only.
    expect(executorsSeen.size).toBeGreaterThanOrEqual(1)
    for (const e of executorsSeen) expect(e).toMatch(/:AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY$/)

    const name = job.id.split('/').pop()!
    expectNoSecret(await kubectl('get', 'job', name, '-o', 'json'), 'the Job')
    expectNoSecret(await kubectl('get', 'pods', '-l', `cms.job=${name}`, '-o', 'json'), 'the driver pod')
    expectNoSecret(await kubectl('get', 'configmaps', '-l', `cms.job=${name}`, '-o', 'json'), 'the job ConfigMap')
    const status = await cms(['job', 'status', '-n', NAME, job.id, '--json'], env)
    expectNoSecret(status.stdout, 'cms job status --json')
    const secret = JSON.parse(await kubectl('get', 'secret', `${name}-s3`, '-o', 'json')) as {data: Record<string, string>}
    expect(Object.keys(secret.data).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])

    const purge = await cms(['job', 'kill', '-n', NAME, job.id, '--purge'], env)
    expect(purge.code, purge.stderr).toBe(0)
    expect(JSON.parse(await kubectl('get', 'secrets', '-l', `cms.job=${name}`, '-o', 'json')).items).toHaveLength(0)
  })
})
