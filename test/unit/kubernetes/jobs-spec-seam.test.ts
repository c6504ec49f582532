import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {KubeConfig} from '@kubernetes/client-node'
import {afterAll, describe, expect, it} from 'vitest'
import type {JobsInput} from '../../../src/engines/engine.js'
import {certificateAccess, kubeConfigFromText} from '../../../src/engines/kubernetes/client.js'
import {loadKubernetesJobFiles} from '../../../src/engines/kubernetes/job-files.js'
import {KubernetesJobService, type SpecJobFile} from '../../../src/engines/kubernetes/jobs.js'
import {UsageError} from '../../../src/remote/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'cms-k8s-seam-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
writeFileSync(join(dir, 'pi.py'), 'print(1)\n')
writeFileSync(join(dir, 'pi.yaml'), 'app: pi.py\nargs: [4]\n')

/** A kubeconfig whose API nobody serves: these checks must fail before any request. */
function unreachable(): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'c', server: 'https://127.0.0.1:9', skipTLSVerify: false}],
    users: [{name: 'u', token: 'unused'}],
    contexts: [{name: 'x', cluster: 'c', user: 'u'}],
    currentContext: 'x',
  })
  return kc
}
const input = {cluster: 'c1', log: () => {}} as unknown as JobsInput

describe('portable job specs on Kubernetes: the translator seam', () => {
  const specs = () => loadKubernetesJobFiles([join(dir, 'pi.yaml')], {})

  it('refuses specs with a UsageError when no translator is wired', async () => {
    const service = new KubernetesJobService(unreachable(), input)
    await expect(service.prepare(specs())).rejects.toThrow(UsageError)
    await expect(service.prepare(specs())).rejects.toThrow(/pi\.yaml: this cms cannot run portable job specs on Kubernetes yet/)
  })

  it('hands the loaded spec to the translator and checks what it returns like a manifest', async () => {
    const seen: SpecJobFile[] = []
    const service = new KubernetesJobService(unreachable(), input, {
      translateSpec: async (job) => {
        seen.push(job)
        return [{apiVersion: 'batch/v1', kind: 'Job', metadata: {generateName: 'pi-'}}]
      },
    })
    await expect(service.prepare(specs())).rejects.toThrow(/pi\.yaml: object 1 translated from the job spec: Job has metadata\.generateName/)
    expect(seen).toHaveLength(1)
    const noJob = new KubernetesJobService(unreachable(), input, {translateSpec: async () => [{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'c'}}]})
    await expect(noJob.prepare(specs())).rejects.toThrow(/pi\.yaml: the job spec's translation has no Job or Pod to follow/)
    expect(seen[0]).toMatchObject({kind: 'spec', name: 'pi', spec: {app: join(dir, 'pi.py'), args: ['4']}})
  })
})

describe('API access for the job service', () => {
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://10.0.0.5:6443", certificate-authority-data: "Y2E="}}, {name: other, cluster: {server: "https://192.0.2.1:6443"}}]',
    'users: [{name: u, user: {token: t0k}}]',
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
  ].join('\n')

  it("reads a kubeconfig with client-node and points its current cluster at the tunnel's local end", async () => {
    const kc = await kubeConfigFromText(text, 'https://127.0.0.1:7443')
    expect(kc.getCurrentCluster()).toMatchObject({name: 'c', server: 'https://127.0.0.1:7443', caData: 'Y2E='})
    expect(kc.clusters.find((c) => c.name === 'other')?.server).toBe('https://192.0.2.1:6443')
    expect(kc.getCurrentUser()?.token).toBe('t0k')
    expect((await kubeConfigFromText(text)).getCurrentCluster()?.server).toBe('https://10.0.0.5:6443')
  })

  it('builds certificate access without client-node, https only', async () => {
    const access = certificateAccess({server: 'https://127.0.0.1:7443', caPem: 'CA', certPem: 'CERT', keyPem: 'KEY', tlsServerName: '10.0.0.5'})
    const opts: Record<string, unknown> = {}
    await access.applyToHTTPSOptions(opts)
    expect(opts).toEqual({ca: 'CA', cert: 'CERT', key: 'KEY', servername: '10.0.0.5'})
    expect(access.getCurrentCluster()).toEqual({server: 'https://127.0.0.1:7443'})
    expect(() => certificateAccess({server: 'http://127.0.0.1:8080', caPem: '', certPem: '', keyPem: ''})).toThrow(/over https/)
  })
})
