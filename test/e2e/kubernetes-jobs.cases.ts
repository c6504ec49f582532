import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {KubeConfig} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import type {JobsInput} from '../../src/engines/engine.js'
import {KubeApi, KubeApiError, type KubeAccess} from '../../src/engines/kubernetes/api.js'
import {certificateAccess, kubeConfigFromText} from '../../src/engines/kubernetes/client.js'
import {loadKubernetesJobFiles} from '../../src/engines/kubernetes/job-files.js'
import {KubernetesJobService} from '../../src/engines/kubernetes/jobs.js'
import {parseManifest} from '../../src/engines/kubernetes/manifests.js'
import {jobSucceeded} from '../../src/jobs/states.js'
import type {JobView} from '../../src/output/results.js'
import {UsageError} from '../../src/remote/errors.js'

/** The KubeConfig of the cluster under test: cms's kubeconfig, its server the tunnel's local port. */
function testKubeConfig(kubeconfig: string): Promise<KubeConfig> {
  return kubeConfigFromText(readFileSync(kubeconfig, 'utf8'))
}

/** The same cluster reached with certificateAccess() from the kubeconfig's embedded PEMs (no client-node). */
function testCertificateAccess(kubeconfig: string): KubeAccess {
  const kc = parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters: Array<{cluster: {server: string; 'certificate-authority-data': string}}>
    users: Array<{user: {'client-certificate-data': string; 'client-key-data': string}}>
  }
  const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8')
  return certificateAccess({
    server: kc.clusters[0]!.cluster.server,
    caPem: pem(kc.clusters[0]!.cluster['certificate-authority-data']),
    certPem: pem(kc.users[0]!.user['client-certificate-data']),
    keyPem: pem(kc.users[0]!.user['client-key-data']),
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Kubernetes jobs through the API, against a real cluster: manifests applied with server-side apply after a dry run,
 * Jobs and bare Pods followed to their end, pod logs, kill, rerun. Asserts on what the API itself reports. The cases
 * run on the kubernetes e2e's cluster (kubernetes.test.ts registers them), reached through its `cms cluster tunnel`
 * with the kubeconfig `cms cluster kubeconfig` wrote; `image` is a busybox image loaded on every node (pods use
 * imagePullPolicy Never).
 */
export function kubernetesJobCases(ctx: {kubeconfig: string; image: string}): void {
  const IMAGE = ctx.image
  describe('Kubernetes jobs through the API', () => {
    const ns = `cms-e2e-${randomBytes(3).toString('hex')}`
    const dir = mkdtempSync(join(tmpdir(), 'cms-k8s-jobs-'))
    const lines: string[] = []
    const input = {cluster: 'k8s-jobs-e2e', log: (l: string) => lines.push(l)} as unknown as JobsInput
    let service: KubernetesJobService
    let api: KubeApi

    /** The job once the Job controller set its terminal condition (it follows SuccessCriteriaMet or FailureTarget once the pods are accounted for; bounded). */
    const terminalCondition = async (view: JobView, condition: 'Complete' | 'Failed'): Promise<JobView> => {
      let now = view
      for (let i = 0; i < 60 && now.status !== condition; i++) {
        await sleep(500)
        now = await service.status(view.id)
      }
      return now
    }
    const file = (name: string, content: string) => {
      const path = join(dir, name)
      writeFileSync(path, content)
      return path
    }
    const container = (name: string, script: string, extra = '') => `{name: ${name}, image: "${IMAGE}", imagePullPolicy: Never${extra}, command: ["/bin/sh", "-c", ${JSON.stringify(script)}]}`
    const jobYaml = (name: string, script: string, opts: {container?: string; backoffLimit?: string} = {}) =>
      [
        'apiVersion: batch/v1',
        'kind: Job',
        `metadata: {name: ${name}, namespace: ${ns}}`,
        'spec:',
        `  ${opts.backoffLimit ?? 'backoffLimit: 0'}`,
        '  template:',
        '    spec:',
        '      restartPolicy: Never',
        '      terminationGracePeriodSeconds: 1',
        `      containers: [${container('main', script, opts.container)}]`,
      ].join('\n')
    /** What the API reports for a path, or undefined when it has no such object. */
    const get = async <T = Record<string, unknown>>(path: string): Promise<T | undefined> => {
      try {
        return await api.request<T>('GET', path)
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return undefined
        throw error
      }
    }
    const submit = async (...paths: string[]) => {
      const prepared = await service.prepare(loadKubernetesJobFiles(paths, {}))
      return Promise.all(prepared.map((j) => service.submit(j)))
    }

    beforeAll(async () => {
      service = new KubernetesJobService(await testKubeConfig(ctx.kubeconfig), input, {pollMs: 1000, deleteTimeoutMs: 90_000})
      api = new KubeApi(await testKubeConfig(ctx.kubeconfig))
    })

    afterAll(async () => {
      await service?.close()
      if (api) {
        await api.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined)
        for (let i = 0; i < 60 && (await get(`/api/v1/namespaces/${ns}`)); i++) await sleep(1000)
        api.close()
      }
      rmSync(dir, {recursive: true, force: true})
    })

    it('applies a manifest (its Namespace first), runs the Job to completion and returns its logs', async () => {
      const path = file(
        'hello.yaml',
        [
          jobYaml('hello', 'echo "hello from $(hostname) with $GREETING"', {container: ', envFrom: [{configMapRef: {name: greeting}}]'}),
          '---',
          'apiVersion: v1',
          'kind: ConfigMap',
          `metadata: {name: greeting, namespace: ${ns}}`,
          'data: {GREETING: bonjour}',
          '---',
          'apiVersion: v1',
          'kind: Namespace',
          `metadata: {name: ${ns}}`,
        ].join('\n'),
      )
      const started = Date.now()
      const [view] = await submit(path)
      expect(view).toMatchObject({id: `${ns}/hello`, kind: 'kubernetes', type: 'Job', state: 'SUBMITTED'})
      const [succeeded] = await service.wait([view!.id], 120_000, (l) => lines.push(l))
      console.log(`Job hello: ${succeeded!.state} ${((Date.now() - started) / 1000).toFixed(1)} s after submit`)
      expect(succeeded!.state).toBe('SUCCEEDED')
      // SUCCEEDED from the Job controller's SuccessCriteriaMet on; its Complete condition follows once the pod is accounted for.
      const done = await terminalCondition(succeeded!, 'Complete')
      expect(done).toMatchObject({state: 'SUCCEEDED', status: 'Complete'})
      expect(jobSucceeded(done!)).toBe(true)
      expect(done!.attempts).toHaveLength(1)
      expect(done!.attempts[0]).toMatchObject({mode: 'pod', state: 'SUCCEEDED', clientStatus: 'Succeeded', exitCode: 0})
      expect(done!.durationMs).toBeGreaterThanOrEqual(0)
      expect(lines.some((l) => l === `${ns}/hello: SUCCEEDED`)).toBe(true)

      // The API's own record: applied by cms with server-side apply, labelled, complete.
      const job = await get<{metadata: {labels: Record<string, string>; managedFields: Array<{manager: string; operation: string}>}; status: {conditions: Array<{type: string; status: string}>}}>(
        `/apis/batch/v1/namespaces/${ns}/jobs/hello`,
      )
      expect(job!.metadata.labels['app.kubernetes.io/managed-by']).toBe('cms')
      expect(job!.metadata.managedFields.some((m) => m.manager === 'cms' && m.operation === 'Apply')).toBe(true)
      expect(job!.status.conditions.find((c) => c.type === 'Complete')?.status).toBe('True')
      expect(await get(`/api/v1/namespaces/${ns}/configmaps/greeting`)).toBeDefined()

      let out = ''
      let err = ''
      const logged = await service.logs(view!.id, {follow: false, timeoutMs: 30_000, out: (s) => (out += s), err: (s) => (err += s)})
      expect(logged.state).toBe('SUCCEEDED')
      expect(out).toMatch(new RegExp(`^hello from hello-[a-z0-9]+ with bonjour\\n$`))
      expect(err).toBe('')

      // Submitting the same file again changes nothing, and says so.
      const [same] = await submit(path)
      expect(same).toMatchObject({id: `${ns}/hello`, state: 'SUCCEEDED'})
      expect(lines).toContain(`${ns}/hello already existed and is SUCCEEDED: applying it again does not run it ('cms job rerun -n k8s-jobs-e2e ${ns}/hello' does)`)
    })

    it('reports a failing Job as FAILED, with its exit code, next to one that succeeds from the same file', async () => {
      const pair = file('pair.yaml', `${jobYaml('fails', 'echo about to fail; exit 3')}\n---\n${jobYaml('passes', 'true')}`)
      const views = await submit(pair)
      expect(views.map((v) => v.id)).toEqual([`${ns}/fails`, `${ns}/passes`])
      // The file was applied once, for both of its jobs.
      expect(lines.filter((l) => l.startsWith(`Applied Job ${ns}/`) && l.endsWith(`(${pair})`))).toEqual([`Applied Job ${ns}/fails (${pair})`, `Applied Job ${ns}/passes (${pair})`])
      const [ended, passed] = await service.wait(views.map((v) => v.id), 120_000, () => {})
      expect(passed!.state).toBe('SUCCEEDED')
      // FAILED from the Job controller's FailureTarget on; its Failed condition follows once the pod is accounted for.
      expect(ended!.state).toBe('FAILED')
      const done = await terminalCondition(ended!, 'Failed')
      expect(done).toMatchObject({state: 'FAILED', status: 'Failed'})
      expect(jobSucceeded(done!)).toBe(false)
      expect(done!.attempts.map((a) => a.exitCode)).toEqual([3])
      const job = await get<{status: {conditions: Array<{type: string; status: string}>}}>(`/apis/batch/v1/namespaces/${ns}/jobs/fails`)
      expect(job!.status.conditions.find((c) => c.type === 'Failed')?.status).toBe('True')
    })

    it('refuses a manifest the API server rejects, naming file and object, and applies nothing of it', async () => {
      const before = await get<{items: unknown[]}>(`/api/v1/namespaces/${ns}/configmaps`)
      const bad = file(
        'bad.yaml',
        [
          'apiVersion: v1',
          'kind: ConfigMap',
          `metadata: {name: must-not-exist, namespace: ${ns}}`,
          'data: {a: "1"}',
          '---',
          jobYaml('negative', 'true', {backoffLimit: 'backoffLimit: -1'}),
          '---',
          jobYaml('typo', 'true', {backoffLimit: 'backofLimit: 2'}),
          '---',
          jobYaml('elsewhere', 'true').replace(`namespace: ${ns}`, `namespace: ${ns}-missing`),
        ].join('\n'),
      )
      const error = await submit(bad).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UsageError)
      const message = (error as Error).message.split('\n')
      expect(message).toEqual([
        expect.stringMatching(new RegExp(`^${bad}: document 2: Job ${ns}/negative: Job.batch "negative" is invalid: spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0`)),
        `${bad}: document 3: Job ${ns}/typo: .spec.backofLimit: field not declared in schema`,
        `${bad}: document 4: Job ${ns}-missing/elsewhere: namespaces "${ns}-missing" not found`,
      ])
      expect(await get(`/api/v1/namespaces/${ns}/configmaps/must-not-exist`)).toBeUndefined()
      expect(await get(`/apis/batch/v1/namespaces/${ns}/jobs/negative`)).toBeUndefined()
      expect((await get<{items: unknown[]}>(`/api/v1/namespaces/${ns}/configmaps`))!.items).toHaveLength(before!.items.length)
      // A kind the API does not serve is refused the same way.
      const unknown = file('widget.yaml', `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: ${ns}}\n---\n${jobYaml('with-widget', 'true')}`)
      await expect(submit(unknown)).rejects.toThrow(`${unknown}: document 1: Widget ${ns}/w: the cluster's API has no kind Widget in example.com/v1`)
      // Two files of one batch with the same Job: refused before anything is applied.
      const twin = file('twin.yaml', jobYaml('twin', 'true'))
      const again = file('twin-again.yaml', jobYaml('twin', 'true'))
      await expect(submit(twin, again)).rejects.toThrow(`${again}: document 1: Job ${ns}/twin is also in ${twin}: submit it once`)
      expect(await get(`/apis/batch/v1/namespaces/${ns}/jobs/twin`)).toBeUndefined()
    })

    it('lists the Jobs and bare Pods cms applied, and follows a bare Pod with its logs', async () => {
      const pod = file(
        'ticker.yaml',
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ticker, namespace: ${ns}}\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n  containers: [${container('tick', 'for i in 1 2 3; do echo tick $i; sleep 1; done')}]\n`,
      )
      const [view] = await submit(pod)
      expect(view).toMatchObject({id: `${ns}/ticker`, type: 'Pod'})
      let out = ''
      const followed = await service.logs(view!.id, {follow: true, timeoutMs: 90_000, out: (s) => (out += s), err: () => {}})
      expect(out).toBe('tick 1\ntick 2\ntick 3\n')
      expect(followed.state).toBe('SUCCEEDED')
      const list = await service.list()
      const ours = list.jobs.filter((j) => j.id.startsWith(`${ns}/`))
      expect(Object.fromEntries(ours.map((j) => [j.id, `${j.type} ${j.state}`]))).toEqual({
        [`${ns}/hello`]: 'Job SUCCEEDED',
        [`${ns}/fails`]: 'Job FAILED',
        [`${ns}/passes`]: 'Job SUCCEEDED',
        [`${ns}/ticker`]: 'Pod SUCCEEDED',
      })
      // A Job's pods are not listed as jobs of their own.
      expect(list.jobs.some((j) => j.id.startsWith(`${ns}/hello-`))).toBe(false)
      // Reached with the cluster's PEMs instead of a client-node KubeConfig, the API answers the same.
      const byPems = new KubernetesJobService(testCertificateAccess(ctx.kubeconfig), input)
      try {
        expect((await byPems.list()).jobs.filter((j) => j.id.startsWith(`${ns}/`)).map((j) => j.id)).toEqual(ours.map((j) => j.id))
      } finally {
        byPems.close()
      }
      await expect(service.status(`${ns}/nope`)).rejects.toThrow(UsageError)
      await expect(service.status('Not/A/Valid/Id')).rejects.toThrow(/invalid job id/)
    })

    it('stops waiting for a job that cannot run (an image no node has) and says why', async () => {
      const [view] = await submit(file('noimage.yaml', jobYaml('noimage', 'true').replace(`image: "${IMAGE}"`, 'image: "cms.local/absent:1"')))
      const started = Date.now()
      const [done] = await service.wait([view!.id], 120_000, () => {})
      const seconds = (Date.now() - started) / 1000
      console.log(`wait gave up on a job with no image after ${seconds.toFixed(1)} s`)
      expect(done!.state).toBe('SUBMITTED')
      expect(done!.placementFailures).toMatch(/container main: ErrImageNeverPull/)
      expect(jobSucceeded(done!)).toBe(false)
      expect(seconds).toBeLessThan(60)
      await service.kill(view!.id, {purge: true})
    })

    it('runs a portable job spec through the translator it is given', async () => {
      writeFileSync(join(dir, 'pi.py'), 'print(1)\n')
      const spec = file('pi-spec.yaml', 'name: pi\napp: pi.py\nargs: [7]\n')
      const translated = new KubernetesJobService(testCertificateAccess(ctx.kubeconfig), input, {
        pollMs: 1000,
        // Stands in for src/jobs/kubernetes-translate.ts: the spec's args reach the pod.
        translateSpec: async (f) => [
          {
            ...parseManifest(jobYaml('pi-spec', `echo pi with ${f.spec.args.join(' ')}`), 'translated.yaml')[0]!.object,
            metadata: {name: 'pi-spec', namespace: ns, annotations: {'cms.kind': 'python', 'cms.spec': f.spec.name}},
          },
        ],
      })
      try {
        const prepared = await translated.prepare(loadKubernetesJobFiles([spec], {}))
        const [view] = await Promise.all(prepared.map((j) => translated.submit(j)))
        expect(view).toMatchObject({id: `${ns}/pi-spec`, name: 'pi', kind: 'python', type: 'Job'})
        const [done] = await translated.wait([view!.id], 120_000, () => {})
        expect(done!.state).toBe('SUCCEEDED')
        let out = ''
        await translated.logs(view!.id, {follow: false, timeoutMs: 30_000, out: (c) => (out += c), err: () => {}})
        expect(out).toBe('pi with 7\n')
      } finally {
        translated.close()
      }
    })

    it('follows the logs of every pod of a Job that retries, the later ones as they start', async () => {
      const [view] = await submit(file('retries.yaml', jobYaml('retries', 'echo attempt on $(hostname); exit 1', {backoffLimit: 'backoffLimit: 1'})))
      let out = ''
      let err = ''
      const followed = await service.logs(view!.id, {follow: true, timeoutMs: 120_000, out: (c) => (out += c), err: (c) => (err += c)})
      expect(followed.state).toBe('FAILED')
      expect(followed.attempts).toHaveLength(2)
      const pods = followed.attempts.map((a) => a.pod!)
      expect(out.split('\n').filter(Boolean).sort()).toEqual(pods.map((p) => `attempt on ${p}`).sort())
      expect(err).toContain(`==> pod ${pods[1]}, container main <==`)
    })

    it('reruns a finished Job from what cms applied: the old one and its pods go, a new one runs', async () => {
      const old = await get<{metadata: {uid: string}}>(`/apis/batch/v1/namespaces/${ns}/jobs/hello`)
      const rerun = await service.rerun(`${ns}/hello`)
      expect(rerun.rerunOf).toBe(`${ns}/hello`)
      const [done] = await service.wait([`${ns}/hello`], 120_000, () => {})
      expect(done!.state).toBe('SUCCEEDED')
      expect(done!.attempts).toHaveLength(1)
      const job = await get<{metadata: {uid: string; annotations: Record<string, string>}; spec: {template: {spec: {containers: Array<{envFrom: unknown}>}}}}>(`/apis/batch/v1/namespaces/${ns}/jobs/hello`)
      expect(job!.metadata.uid).not.toBe(old!.metadata.uid)
      expect(job!.metadata.annotations['cms.rerun-of']).toBe(`${ns}/hello`)
      expect(job!.spec.template.spec.containers[0]!.envFrom).toEqual([{configMapRef: {name: 'greeting'}}])
      const oldPods = await get<{items: unknown[]}>(`/api/v1/namespaces/${ns}/pods?labelSelector=batch.kubernetes.io/controller-uid=${old!.metadata.uid}`)
      expect(oldPods!.items).toHaveLength(0)
      // A job still running is not rerun.
      const [sleeper] = await submit(file('sleeper.yaml', jobYaml('sleeper', 'sleep 300')))
      await expect(service.rerun(sleeper!.id)).rejects.toThrow(/rerun takes a finished job/)
    })

    it('kills: Background deletes the Job at once, purge (Foreground) returns when the Job and its pods are gone', async () => {
      const running = async (id: string) => {
        for (let i = 0; i < 60; i++) {
          if ((await service.status(id)).attempts.some((a) => a.clientStatus === 'Running')) return
          await sleep(1000)
        }
        throw new Error(`${id} never ran`)
      }
      await running(`${ns}/sleeper`)
      const uid = (await get<{metadata: {uid: string}}>(`/apis/batch/v1/namespaces/${ns}/jobs/sleeper`))!.metadata.uid
      const killed = await service.kill(`${ns}/sleeper`, {purge: false})
      expect(killed).toMatchObject({state: 'KILLED', status: 'deleted'})
      expect(await get(`/apis/batch/v1/namespaces/${ns}/jobs/sleeper`)).toBeUndefined()
      // Its pod is deleted by the garbage collector afterwards.
      let pods = 1
      for (let i = 0; i < 60 && pods > 0; i++) {
        pods = (await get<{items: unknown[]}>(`/api/v1/namespaces/${ns}/pods?labelSelector=batch.kubernetes.io/controller-uid=${uid}`))!.items.length
        if (pods > 0) await sleep(1000)
      }
      expect(pods).toBe(0)

      const [again] = await submit(file('sleeper2.yaml', jobYaml('sleeper2', 'sleep 300')))
      await running(again!.id)
      const uid2 = (await get<{metadata: {uid: string}}>(`/apis/batch/v1/namespaces/${ns}/jobs/sleeper2`))!.metadata.uid
      const started = Date.now()
      const purged = await service.kill(again!.id, {purge: true})
      console.log(`kill --purge of a running Job: ${((Date.now() - started) / 1000).toFixed(1)} s`)
      expect(purged).toMatchObject({state: 'KILLED', status: 'deleted'})
      expect(await get(`/apis/batch/v1/namespaces/${ns}/jobs/sleeper2`)).toBeUndefined()
      expect((await get<{items: unknown[]}>(`/api/v1/namespaces/${ns}/pods?labelSelector=batch.kubernetes.io/controller-uid=${uid2}`))!.items).toHaveLength(0)
      await expect(service.kill(again!.id, {purge: false})).rejects.toThrow(/not found/)
      // A job that had ended keeps its end state; its record is gone all the same.
      expect(await service.kill(`${ns}/fails`, {purge: true})).toMatchObject({state: 'FAILED', status: 'deleted'})
      expect(await get(`/apis/batch/v1/namespaces/${ns}/jobs/fails`)).toBeUndefined()
    })
  })
}
