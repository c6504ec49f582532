import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cms, ROOT} from './helpers.js'
import {expectWordCountOutput, S3_BUCKET as BUCKET, s3StoreForCases, s3TestCredentials} from './s3-store.js'

/**
 * s3a:// paths on a Kubernetes cluster (the Spark-on-Kubernetes e2e's, with its Spark image loaded) against moto's S3
 * on the cluster network's gateway: the credentials reach the driver and executor pods only by reference to a
 * Secret; the Job, the pods, the ConfigMap and `cms` output never hold them, and `job kill --purge` deletes the Secret.
 */
export function s3KubernetesCases(ctx: {name: string; home: string; work: string; image: () => string; kubectl: (...args: string[]) => Promise<string>}): void {
  describe('s3a:// paths', () => {
    const {name, home, work, kubectl} = ctx
    const {env, expectNoSecret} = s3TestCredentials(home)
    const s3 = s3StoreForCases(name)


    it('a Python spec (driver pod, two executor pods) writes s3a:// output and reads it back; only the Secret holds the credentials', async () => {
      writeFileSync(
        join(work, 's3-wordcount.yaml'),
        [
          `app: ${join(ROOT, 'test', 'e2e', 'fixtures', 's3_wordcount.py')}`,
          `args: [s3a://${BUCKET}/in/words.txt, s3a://${BUCKET}/out/wordcount]`,
          `conf: {spark.kubernetes.container.image: "${ctx.image()}"}`,
          'driver: {memory: 512m}',
          'executor: {instances: 2, cores: 1, memory: 512m}',
        ].join('\n'),
      )
      // The executor pods live only while the driver runs: look at them (as the API stores them) meanwhile.
      const submit = cms(['cluster', 'submit', '-n', name, join(work, 's3-wordcount.yaml'), '--s3-endpoint', s3().url, '--wait', '--json'], env, {timeoutMs: 900_000})
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
      const logs = await cms(['job', 'logs', '-n', name, job.id], env)
      expect(r.code, r.stderr + logs.stdout + logs.stderr).toBe(0)
      expect(job.state).toBe('SUCCEEDED')
      await expectWordCountOutput(s3(), logs.stdout + logs.stderr)
      // Every executor pod named the credentials by reference only.
      expect(executorsSeen.size).toBeGreaterThanOrEqual(1)
      for (const e of executorsSeen) expect(e).toMatch(/:AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY$/)

      const jobName = job.id.split('/').pop()!
      expectNoSecret(await kubectl('get', 'job', jobName, '-o', 'json'), 'the Job')
      expectNoSecret(await kubectl('get', 'pods', '-l', `cms.job=${jobName}`, '-o', 'json'), 'the driver pod')
      expectNoSecret(await kubectl('get', 'configmaps', '-l', `cms.job=${jobName}`, '-o', 'json'), 'the job ConfigMap')
      const status = await cms(['job', 'status', '-n', name, job.id, '--json'], env)
      expectNoSecret(status.stdout, 'cms job status --json')
      const secret = JSON.parse(await kubectl('get', 'secret', `${jobName}-s3`, '-o', 'json')) as {data: Record<string, string>}
      expect(Object.keys(secret.data).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])

      const purge = await cms(['job', 'kill', '-n', name, job.id, '--purge'], env)
      expect(purge.code, purge.stderr).toBe(0)
      expect(JSON.parse(await kubectl('get', 'secrets', '-l', `cms.job=${jobName}`, '-o', 'json')).items).toHaveLength(0)
    })
  })
}
