import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {KubeConfig} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import type {JobsInput} from '../../../src/engines/engine.js'
import {loadKubernetesJobFiles} from '../../../src/engines/kubernetes/job-files.js'
import {KubernetesJobService, type SpecJobFile} from '../../../src/engines/kubernetes/jobs.js'
import {UsageError} from '../../../src/remote/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'cms-k8s-seam-'))
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
    expect(seen[0]).toMatchObject({kind: 'spec', name: 'pi', spec: {app: join(dir, 'pi.py'), args: ['4']}})
  })
})
