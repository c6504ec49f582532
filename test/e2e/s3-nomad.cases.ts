import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cms, docker, labelledContainers, ROOT} from './helpers.js'
import {expectWordCountOutput, S3_BUCKET as BUCKET, s3StoreForCases, s3TestCredentials} from './s3-store.js'

/**
 * s3a:// paths on a Nomad cluster (the nomad e2e's; the spec runs as a raw_exec task with Spark in local mode) against
 * moto's S3 on the cluster network's gateway: the credentials go to a Nomad variable (nomad/jobs/ID) that a template
 * renders into the task's secrets dir; the job as Nomad stores it, `cms` output and the hosts' files never hold them,
 * and `job kill --purge` deletes the variable. `nomadApi` reads Nomad's own HTTP API on the head, as text.
 */
export function s3NomadCases(ctx: {name: string; home: string; nomadApi: (path: string) => Promise<{status: number; body: string}>}): void {
  describe('s3a:// paths', () => {
    const {name, home, nomadApi} = ctx
    const {env, values, expectNoSecret} = s3TestCredentials(home)
    const s3 = s3StoreForCases(name)
    let id = ''


    it('a Python spec writes s3a:// output and reads it back', async () => {
      const spec = join(home, 's3-wordcount.yaml')
      writeFileSync(spec, `name: s3wc\napp: ${join(ROOT, 'test', 'e2e', 'fixtures', 's3_wordcount.py')}\ndriver: {memory: 512m}\n`)
      const r = await cms(['cluster', 'submit', '-n', name, spec, '--s3-endpoint', s3().url, '--wait', '--json', '--', `s3a://${BUCKET}/in/words.txt`, `s3a://${BUCKET}/out/wordcount`], env)
      expectNoSecret(r.stdout + r.stderr, 'the output of cluster submit')
      const job = JSON.parse(r.stdout).jobs[0]
      id = job.id
      const logs = await cms(['job', 'logs', '-n', name, id], env)
      expectNoSecret(logs.stdout + logs.stderr, 'cms job logs')
      expect(r.code, r.stderr + logs.stdout + logs.stderr).toBe(0)
      expect(job.state).toBe('SUCCEEDED')
      await expectWordCountOutput(s3(), logs.stdout + logs.stderr)
    })

    it('the credentials are in the Nomad variable only: not in the job, its status, or any file but the task secret', async () => {
      const stored = await nomadApi(`/v1/job/${encodeURIComponent(id)}`)
      expect(stored.status).toBe(200)
      expectNoSecret(stored.body, 'the job as Nomad stores it')
      const task = JSON.parse(stored.body).TaskGroups[0].Tasks[0]
      expect(task.Templates[0].DestPath).toBe('secrets/s3-credentials')
      expect(task.Env.AWS_SHARED_CREDENTIALS_FILE).toBe('${NOMAD_SECRETS_DIR}/s3-credentials')
      expect((await nomadApi(`/v1/var/nomad/jobs/${encodeURIComponent(id)}`)).status).toBe(200)
      const status = await cms(['job', 'status', '-n', name, id, '--json'], env)
      expectNoSecret(status.stdout, 'cms job status --json')
      for (const c of await labelledContainers(name)) {
        // The rendered file sits in the allocation's secrets dir; nothing else may hold a credential.
        const found = await docker('exec', c.name, 'sh', '-c', 'grep -rlF -e "$1" -e "$2" /root /home /tmp /var/tmp 2>/dev/null | grep -v "/secrets/s3-credentials$" || true', 'sh', ...values)
        expect(found, `files on ${c.name} holding a credential`).toBe('')
        const rendered = await docker('exec', c.name, 'sh', '-c', `find / -xdev -path '*/spark/secrets/s3-credentials' -exec stat -c '%a %n' {} + 2>/dev/null || true`)
        for (const line of rendered.split('\n').filter(Boolean)) expect(line).toMatch(/^600 /)
      }
    })

    it('job kill --purge deletes the variable', async () => {
      const r = await cms(['job', 'kill', '-n', name, id, '--purge', '--json'], env)
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect((await nomadApi(`/v1/var/nomad/jobs/${encodeURIComponent(id)}`)).status).toBe(404)
    })
  })
}
