import {join} from 'node:path'
import {writeFileSync} from 'node:fs'
import {beforeAll, describe, expect, it} from 'vitest'
import {cms, docker, fixtureJar, labelledContainers, ROOT} from './helpers.js'
import {expectWordCountOutput, S3_BUCKET as BUCKET, s3StoreForCases, s3TestCredentials} from './s3-store.js'

/**
 * s3a:// paths on a cluster whose Spark jobs run as the login user on its hosts, against a real S3-compatible server
 * (moto's S3, bound to the cluster network's gateway only: see s3-store.ts): Spark standalone (the jobs e2e's
 * cluster: a Python job with its client-mode driver on the head, a JVM job with its driver on a worker through the
 * master's REST API) and Hadoop (the hadoop e2e's: a Python job in YARN cluster mode, the driver in an
 * ApplicationMaster; a JVM job there takes the very same route, the same properties and credentials file, so it is
 * not run again). Each job writes and reads back s3a:// paths, checked through the server's own API; the credentials
 * appear in no job record, no `cms` output, no file on the hosts but the 0600 credentials files, and no process's
 * command line while the jobs run.
 */
export function s3SparkCases(ctx: {name: string; home: string; engine: 'spark' | 'hadoop'}): void {
  describe(`s3a:// paths (${ctx.engine})`, () => {
    const {name, home} = ctx
    // Standalone runs a JVM driver elsewhere than a Python one (on a worker, through the master's REST API).
    const withJvmJob = ctx.engine === 'spark'
    const {env, values, expectNoSecret} = s3TestCredentials(home, {sessionToken: true})
    const s3 = s3StoreForCases(name)
    let hosts: string[] = []
    const seenOnCommandLines: string[] = []

    /** Every process's command line on every host, once; a credential on one is recorded. */
    const checkCommandLines = async () => {
      for (const h of hosts) {
        const ps = await docker('exec', h, 'ps', '-eo', 'args').catch(() => '')
        for (const v of values) if (ps.includes(v)) seenOnCommandLines.push(h)
      }
    }

    /** Submits without --wait, then follows the job with `job status` while looking at every host's processes. */
    const runJob = async (file: string, args: string[]) => {
      const submitted = await cms(['cluster', 'submit', '-n', name, file, '--s3-endpoint', s3().url, '--json', '--', ...args], env)
      expect(submitted.code, submitted.stderr).toBe(0)
      expectNoSecret(submitted.stdout + submitted.stderr, 'the output of cluster submit')
      expect(submitted.stderr).toMatch(/S3: credentials from AWS_ACCESS_KEY_ID, endpoint http:\/\//)
      const id = JSON.parse(submitted.stdout).jobs[0].id as string
      let status: {state: string} = {state: 'SUBMITTED'}
      for (let i = 0; i < 400 && !['SUCCEEDED', 'FAILED', 'KILLED'].includes(status.state); i++) {
        await checkCommandLines()
        const r = await cms(['job', 'status', '-n', name, id, '--json'], env)
        expect(r.code, r.stderr).toBe(0)
        expectNoSecret(r.stdout, 'cms job status --json')
        status = JSON.parse(r.stdout)
        if (!['SUCCEEDED', 'FAILED', 'KILLED'].includes(status.state)) await new Promise((res) => setTimeout(res, 1000))
      }
      const logs = await cms(['job', 'logs', '-n', name, id], env)
      expectNoSecret(logs.stdout + logs.stderr, 'cms job logs')
      expect(status.state, logs.stdout + logs.stderr).toBe('SUCCEEDED')
      return {id, logs: logs.stdout + logs.stderr}
    }

    beforeAll(async () => {
      hosts = (await labelledContainers(name)).map((c) => c.name)
    })

    it('a Python job writes s3a:// output and reads it back', async () => {
      const spec = join(home, 's3-wordcount.yaml')
      writeFileSync(spec, `name: s3wc\napp: ${join(ROOT, 'test', 'e2e', 'fixtures', 's3_wordcount.py')}\nexecutor: {cores: 1, memory: 512m}\ndriver: {memory: 512m}\n`)
      const {logs} = await runJob(spec, [`s3a://${BUCKET}/in/words.txt`, `s3a://${BUCKET}/out/wordcount`])
      const keys = await expectWordCountOutput(s3(), logs)
      const part = keys.find((k) => /\/part-00000/.test(k))
      const counts = Object.fromEntries((await s3().get(BUCKET, part!)).trim().split('\n').map((l) => l.split('\t')))
      expect(counts).toEqual({to: '2', be: '2', or: '1', not: '1', that: '1', is: '1', the: '1', question: '1'})
    })

    if (withJvmJob) it('a JVM job does the same', async () => {
      const spec = join(home, 's3-count.yaml')
      writeFileSync(spec, `name: s3count\napp: ${fixtureJar('CmsS3Job')}\nmainClass: CmsS3Job\nexecutor: {cores: 1, memory: 512m}\ndriver: {memory: 512m}\n`)
      await runJob(spec, [`s3a://${BUCKET}/in/words.txt`, `s3a://${BUCKET}/out/count`])
      const keys = await s3().list(BUCKET, 'out/count/')
      expect(keys).toContain('out/count/_SUCCESS')
      expect((await s3().get(BUCKET, keys.find((k) => /\/part-00000/.test(k))!)).trim()).toBe('lines=2')
    })

    it('the credentials are only in the 0600 credentials files: no job record, file, command line or listing holds them', async () => {
      expect(seenOnCommandLines, 'a credential appeared on a command line').toEqual([])
      const list = await cms(['job', 'list', '-n', name, '--json'], env)
      expect(list.code, list.stderr).toBe(0)
      expectNoSecret(list.stdout, 'cms job list --json')
      for (const h of hosts) {
        // Every file of the host's users and temp folders (job records, runner scripts, REST requests, the workers'
        // driver folders with their launch commands, Spark's logs), except the credentials files themselves.
        const found = await docker('exec', h, 'sh', '-c', 'grep -rlF -e "$1" -e "$2" -e "$3" /root /home /tmp /var/tmp --exclude-dir=s3 2>/dev/null || true', 'sh', ...values)
        expect(found, `files on ${h} holding a credential`).toBe('')
        const modes = await docker('exec', h, 'sh', '-c', `stat -c '%a %U %n' /root/.cms/clusters/${name}/s3 /root/.cms/clusters/${name}/s3/*`)
        const lines = modes.split('\n')
        expect(lines[0]).toMatch(/^700 \S+ .*\/s3$/)
        expect(lines.length).toBe(withJvmJob ? 3 : 2) // the folder, then one file per job
        for (const l of lines.slice(1)) expect(l).toMatch(/^600 \S+ .*\.credentials$/)
      }
    })
  })
}
