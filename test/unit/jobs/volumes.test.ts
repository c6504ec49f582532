import {describe, expect, it} from 'vitest'
import {specToManifests} from '../../../src/jobs/kubernetes-translate.js'
import {parseJobSpec, type JobSpec} from '../../../src/jobs/spec.js'
import {checkHostVolumes, checkKubernetesVolumes, executorVolumeProperties, podVolumes} from '../../../src/jobs/volumes.js'
import {UsageError} from '../../../src/remote/errors.js'

const spec = (input: Record<string, unknown>): JobSpec => parseJobSpec(input, 'test.yaml')
const withVolumes = (volumes: unknown[]) => spec({app: 'https://example.org/pi.py', volumes})

describe('volumes in the job spec', () => {
  it('each needs a name, an absolute mount and exactly one of hostPath, pvc or emptyDir; readOnly defaults to false', () => {
    const s = withVolumes([
      {name: 'data', mount: '/data', hostPath: '/srv/data', readOnly: true},
      {name: 'scratch', mount: '/scratch', emptyDir: true},
      {name: 'out', mount: '/out', pvc: 'results'},
    ])
    expect(s.volumes).toEqual([
      {name: 'data', mount: '/data', hostPath: '/srv/data', readOnly: true},
      {name: 'scratch', mount: '/scratch', emptyDir: true, readOnly: false},
      {name: 'out', mount: '/out', pvc: 'results', readOnly: false},
    ])
    expect(spec({app: 'https://example.org/pi.py'}).volumes).toEqual([])
  })

  it('refuses what cannot be mounted, naming the field', () => {
    const cases: Array<[unknown[], RegExp]> = [
      [[{name: 'data', mount: 'data', hostPath: '/srv'}], /volumes\[0\]\.mount: must be an absolute path/],
      [[{name: 'data', mount: '/data', hostPath: 'srv'}], /volumes\[0\]\.hostPath: must be an absolute path/],
      [[{name: 'data', mount: '/data/../etc', hostPath: '/srv'}], /volumes\[0\]\.mount: must not contain \.\./],
      [[{name: 'Data', mount: '/data', emptyDir: true}], /volumes\[0\]\.name: must be 1-63 lowercase/],
      [[{name: 'data', mount: '/data'}], /volumes\[0\]: needs exactly one of hostPath, pvc or emptyDir/],
      [[{name: 'data', mount: '/data', emptyDir: true, pvc: 'x'}], /needs exactly one of hostPath, pvc or emptyDir \(got pvc and emptyDir\)/],
      [[{name: 'data', mount: '/data', emptyDir: false}], /volumes\[0\]\.emptyDir: expected true/],
      [[{name: 'a', mount: '/data', emptyDir: true}, {name: 'a', mount: '/other', emptyDir: true}], /volumes\[1\]\.name: a is used by an earlier volume/],
      [[{name: 'a', mount: '/data', emptyDir: true}, {name: 'b', mount: '/data', emptyDir: true}], /volumes\[1\]\.mount: \/data is used by an earlier volume/],
      [[{name: 'a', mount: '/data', emptyDir: true, size: 1}], /volumes\[0\]\.size: unknown field/],
    ]
    for (const [volumes, message] of cases) expect(() => withVolumes(volumes), JSON.stringify(volumes)).toThrow(message)
  })
})

describe('volumes on each engine', () => {
  it('host-process engines take hostPath volumes at their own path only', () => {
    expect(() => checkHostVolumes(withVolumes([{name: 'data', mount: '/srv/data', hostPath: '/srv/data'}]), 'Spark standalone')).not.toThrow()
    expect(() => checkHostVolumes(withVolumes([{name: 'data', mount: '/data', hostPath: '/srv/data'}]), 'Spark standalone')).toThrow(/volumes\[0\] \(data\): on Spark standalone a hostPath volume is the hosts' own folder, so mount must be \/srv\/data too/)
    expect(() => checkHostVolumes(withVolumes([{name: 'out', mount: '/out', pvc: 'results'}]), 'Nomad')).toThrow(UsageError)
    expect(() => checkHostVolumes(withVolumes([{name: 'out', mount: '/out', pvc: 'results'}]), 'Nomad')).toThrow(/Nomad runs jobs as processes on the hosts, which can use hostPath volumes only, not pvc/)
  })

  it('Kubernetes: names cms and Spark use for their own volumes are refused', () => {
    expect(() => checkKubernetesVolumes(withVolumes([{name: 'spark-local-dir-1', mount: '/x', emptyDir: true}]))).toThrow(/starts with cms- or spark-/)
    expect(() => checkKubernetesVolumes(withVolumes([{name: 'data', mount: '/x', emptyDir: true}]))).not.toThrow()
  })

  it('Kubernetes: the driver pod mounts every volume, and Spark mounts them in every executor pod', () => {
    const s = spec({
      app: 'https://example.org/pi.py',
      volumes: [
        {name: 'data', mount: '/data', hostPath: '/srv/data', readOnly: true},
        {name: 'out', mount: '/out', pvc: 'results'},
        {name: 'scratch', mount: '/scratch', emptyDir: true},
      ],
    })
    expect(executorVolumeProperties(s.volumes)).toEqual({
      'spark.kubernetes.executor.volumes.hostPath.data.mount.path': '/data',
      'spark.kubernetes.executor.volumes.hostPath.data.mount.readOnly': 'true',
      'spark.kubernetes.executor.volumes.hostPath.data.options.path': '/srv/data',
      'spark.kubernetes.executor.volumes.persistentVolumeClaim.out.mount.path': '/out',
      'spark.kubernetes.executor.volumes.persistentVolumeClaim.out.mount.readOnly': 'false',
      'spark.kubernetes.executor.volumes.persistentVolumeClaim.out.options.claimName': 'results',
      'spark.kubernetes.executor.volumes.emptyDir.scratch.mount.path': '/scratch',
      'spark.kubernetes.executor.volumes.emptyDir.scratch.mount.readOnly': 'false',
    })
    const job = specToManifests(s, {jobId: 'pi-20261204-100000-ab12', namespace: 'default', image: 'cms/spark:4.3.0'}).find((o) => o.kind === 'Job') as unknown as {
      spec: {template: {spec: {volumes: unknown[]; containers: Array<{volumeMounts: unknown[]; args: string[]}>}}}
    }
    const pod = job.spec.template.spec
    expect(pod.volumes).toEqual(podVolumes(s.volumes).volumes)
    expect(pod.containers[0]!.volumeMounts).toEqual([
      {name: 'data', mountPath: '/data', readOnly: true},
      {name: 'out', mountPath: '/out', readOnly: false},
      {name: 'scratch', mountPath: '/scratch', readOnly: false},
    ])
    expect(pod.containers[0]!.args).toContain('spark.kubernetes.executor.volumes.hostPath.data.options.path=/srv/data')
  })
})
