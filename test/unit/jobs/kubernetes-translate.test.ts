import {describe, expect, it} from 'vitest'
import {
  DEFAULT_API_SERVER,
  kubernetesJobName,
  localPathsOf,
  podMemoryMb,
  readSpecFiles,
  SPARK_SERVICE_ACCOUNT,
  sparkServiceAccountObjects,
  specToManifests,
  type KubernetesObject,
} from '../../../src/jobs/kubernetes-translate.js'
import {sparkSubmitDefaults} from '../../../src/engines/kubernetes/spark-submit-access.js'
import {parseJobSpec, type JobSpec} from '../../../src/jobs/spec.js'
import {UsageError} from '../../../src/remote/errors.js'

const spec = (input: Record<string, unknown>): JobSpec => parseJobSpec(input, 'test')
const base = {jobId: 'pi-20261129-110000-ab12', namespace: 'default', image: 'cms/spark:4.3.0'}
const PI = '#!/usr/bin/env python3\nprint("pi")\n'

function byKind(objects: KubernetesObject[], kind: string): any {
  const found = objects.filter((o) => o.kind === kind)
  expect(found.length).toBeLessThanOrEqual(1)
  return found[0]
}

/** The container's args as `--conf` properties and the rest. */
function submitOf(job: any): {command: string; props: Record<string, string>; rest: string[]} {
  const args: string[] = job.spec.template.spec.containers[0].args
  const props: Record<string, string> = {}
  const rest: string[] = []
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--conf') {
      const kv = args[++i]!
      props[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1)
    } else rest.push(args[i]!)
  }
  return {command: args[0]!, props, rest}
}

describe('specToManifests', () => {
  it("runs pi.py as a Job whose pod is Spark's client-mode driver on Kubernetes", () => {
    const s = spec({app: '/work/pi.py', args: [10], executor: {instances: 2, cores: 1, memory: '512m'}})
    const objects = specToManifests(s, {...base, localFiles: {'/work/pi.py': PI}})
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Job'])
    const job = byKind(objects, 'Job')
    expect(job.metadata).toMatchObject({name: 'pi-20261129-110000-ab12', namespace: 'default', labels: {'app.kubernetes.io/managed-by': 'cms'}, annotations: {'cms.job-id': base.jobId}})
    expect(job.spec.backoffLimit).toBe(0)
    const pod = job.spec.template.spec
    expect(pod).toMatchObject({restartPolicy: 'Never', serviceAccountName: 'cms-spark'})
    expect(pod.priorityClassName).toBeUndefined()
    expect(pod.containers).toHaveLength(1)
    expect(pod.containers[0]).toMatchObject({image: 'cms/spark:4.3.0', imagePullPolicy: 'Never'})
    const {command, props, rest} = submitOf(job)
    expect(command).toBe('/opt/spark/bin/spark-submit')
    expect(rest).toEqual(['--master', `k8s://${DEFAULT_API_SERVER}`, '--deploy-mode', 'client', '--name', 'pi', '/opt/cms/job/app/pi.py', '10'])
    expect(props).toMatchObject({
      'spark.driver.host': '$(CMS_POD_IP)',
      'spark.kubernetes.driver.pod.name': '$(CMS_POD_NAME)',
      'spark.kubernetes.container.image': 'cms/spark:4.3.0',
      'spark.kubernetes.container.image.pullPolicy': 'Never',
      'spark.kubernetes.namespace': 'default',
      'spark.kubernetes.authenticate.driver.serviceAccountName': 'cms-spark',
      'spark.executor.instances': '2',
      'spark.executor.cores': '1',
      'spark.executor.memory': '512m',
    })
    // The two references Kubernetes expands come from the downward API.
    expect(pod.containers[0].env.slice(0, 2)).toEqual([
      {name: 'CMS_POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
      {name: 'CMS_POD_NAME', valueFrom: {fieldRef: {fieldPath: 'metadata.name'}}},
    ])
  })

  it('gives the driver service account the least RBAC a driver (and a stock cluster-mode submission) needs, in its namespace only', () => {
    const objects = specToManifests(spec({app: 'https://example.org/pi.py'}), {...base, namespace: 'spark-jobs'})
    const role = byKind(objects, 'Role')
    expect(role.metadata.namespace).toBe('spark-jobs')
    expect(role.rules).toEqual([
      {apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'persistentvolumeclaims'], verbs: ['create', 'get', 'list', 'watch', 'delete', 'deletecollection', 'patch']},
      {apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['create', 'get', 'list', 'watch', 'delete', 'patch']},
    ])
    expect(objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false)
    expect(byKind(objects, 'RoleBinding')).toMatchObject({
      metadata: {name: 'cms-spark', namespace: 'spark-jobs'},
      subjects: [{kind: 'ServiceAccount', name: 'cms-spark', namespace: 'spark-jobs'}],
      roleRef: {kind: 'Role', name: 'cms-spark'},
    })
    expect(byKind(objects, 'ServiceAccount').metadata).toMatchObject({name: 'cms-spark', namespace: 'spark-jobs'})
  })

  it('maps priority to a PriorityClass for the driver and (through a pod template) the executors', () => {
    const objects = specToManifests(spec({app: '/w/pi.py', priority: 250}), {...base, localFiles: {'/w/pi.py': PI}})
    expect(objects[0]).toMatchObject({apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: {name: 'cms-priority-250'}, value: 250, globalDefault: false})
    const job = byKind(objects, 'Job')
    expect(job.spec.template.spec.priorityClassName).toBe('cms-priority-250')
    const cm = byKind(objects, 'ConfigMap')
    expect(cm.data['executor-pod']).toContain('priorityClassName: cms-priority-250')
    expect(submitOf(job).props['spark.kubernetes.executor.podTemplateFile']).toBe('/opt/cms/job/executor-pod.yaml')
    expect(job.spec.template.spec.volumes[0].configMap.items).toContainEqual({key: 'executor-pod', path: 'executor-pod.yaml'})
  })

  it('maps priority for a spec without local files too', () => {
    const objects = specToManifests(spec({app: 'https://example.org/pi.py', priority: 7}), base)
    expect(objects.map((o) => o.kind)).toEqual(['PriorityClass', 'ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Job'])
    expect(byKind(objects, 'ConfigMap').data).toEqual({'executor-pod': expect.stringContaining('cms-priority-7')})
  })

  it('maps retries to backoffLimit, driver resources to requests/limits with Spark\'s overhead, env to the container', () => {
    const s = spec({app: 'https://example.org/pi.py', retries: 3, driver: {cores: 2, memory: '2g'}, env: {TZ: 'UTC', GREETING: 'a $(B) c'}})
    const job = byKind(specToManifests(s, base), 'Job')
    expect(job.spec.backoffLimit).toBe(3)
    const c = job.spec.template.spec.containers[0]
    // 2 GiB heap + max(384 MiB, 10 %) = 2048 + 384 = 2432 MiB.
    expect(c.resources).toEqual({requests: {cpu: '2', memory: '2432Mi'}, limits: {memory: '2432Mi'}})
    expect(c.env.slice(2)).toEqual([{name: 'TZ', value: 'UTC'}, {name: 'GREETING', value: 'a $(B) c'}])
    expect(submitOf(job).props).toMatchObject({'spark.driver.memory': '2g', 'spark.executorEnv.TZ': 'UTC'})
  })

  it('defaults the driver to 1 core and 1g + 384 MiB', () => {
    const c = byKind(specToManifests(spec({app: 'https://example.org/pi.py'}), base), 'Job').spec.template.spec.containers[0]
    expect(c.resources).toEqual({requests: {cpu: '1', memory: '1408Mi'}, limits: {memory: '1408Mi'}})
    expect(podMemoryMb('8g')).toBe(8192 + 820)
  })

  it('puts local files in a ConfigMap mounted in the driver; URLs pass through; conf wins', () => {
    const s = spec({
      app: '/w/app.jar',
      mainClass: 'com.example.Main',
      jars: ['/w/lib/dep.jar', 'https://repo.example.org/x.jar'],
      files: ['/w/lookup.csv', '/other/lookup.csv'],
      conf: {'spark.executor.memory': '3g', 'spark.ui.enabled': 'true'},
      executor: {memory: '1g'},
    })
    const jar = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff])
    const objects = specToManifests(s, {...base, localFiles: {'/w/app.jar': jar, '/w/lib/dep.jar': jar, '/w/lookup.csv': 'a,b\n', '/other/lookup.csv': 'c,d\n'}})
    const cm = byKind(objects, 'ConfigMap')
    expect(cm.metadata.name).toBe('pi-20261129-110000-ab12-files')
    expect(cm.binaryData).toEqual({app: jar.toString('base64'), 'jar-0': jar.toString('base64')})
    expect(cm.data).toEqual({'file-0': 'a,b\n', 'file-1': 'c,d\n'})
    const pod = byKind(objects, 'Job').spec.template.spec
    expect(pod.volumes).toEqual([
      {
        name: 'cms-job',
        configMap: {
          name: 'pi-20261129-110000-ab12-files',
          items: [
            {key: 'app', path: 'app/app.jar'},
            {key: 'jar-0', path: 'jar/0/dep.jar'},
            {key: 'file-0', path: 'file/0/lookup.csv'},
            {key: 'file-1', path: 'file/1/lookup.csv'},
          ],
        },
      },
    ])
    expect(pod.containers[0].volumeMounts).toEqual([{name: 'cms-job', mountPath: '/opt/cms/job', readOnly: true}])
    const {rest, props} = submitOf(byKind(objects, 'Job'))
    expect(rest).toEqual([
      '--master', `k8s://${DEFAULT_API_SERVER}`, '--deploy-mode', 'client', '--name', 'app', '--class', 'com.example.Main',
      '--jars', '/opt/cms/job/jar/0/dep.jar,https://repo.example.org/x.jar',
      '--files', '/opt/cms/job/file/0/lookup.csv,/opt/cms/job/file/1/lookup.csv',
      '/opt/cms/job/app/app.jar',
    ])
    expect(props['spark.executor.memory']).toBe('3g')
    expect(props['spark.ui.enabled']).toBe('true')
  })

  it('keeps $( in user arguments literal (Kubernetes would expand it)', () => {
    const s = spec({app: 'https://example.org/pi.py', args: ['$(HOME)', 'plain'], conf: {'spark.x': 'v$(Y)'}})
    const args: string[] = byKind(specToManifests(s, base), 'Job').spec.template.spec.containers[0].args
    expect(args.slice(-2)).toEqual(['$$(HOME)', 'plain'])
    expect(args).toContain('spark.x=v$$(Y)')
    expect(args).toContain('spark.driver.host=$(CMS_POD_IP)')
  })

  it('uses the given API server', () => {
    const job = byKind(specToManifests(spec({app: 'https://example.org/pi.py'}), {...base, apiServer: 'https://10.96.0.1:443'}), 'Job')
    expect(submitOf(job).rest.slice(0, 2)).toEqual(['--master', 'k8s://https://10.96.0.1:443'])
  })

  it('refuses local files larger than a ConfigMap holds', () => {
    const s = spec({app: '/w/pi.py', files: ['/w/big.bin']})
    const big = Buffer.alloc((1 << 20) - 10, 1)
    expect(() => specToManifests(s, {...base, localFiles: {'/w/pi.py': PI, '/w/big.bin': big}})).toThrow(UsageError)
    expect(() => specToManifests(s, {...base, localFiles: {'/w/pi.py': PI, '/w/big.bin': big}})).toThrow(/at most 1 MiB/)
  })

  it('refuses a namespace that is not a DNS label', () => {
    expect(() => specToManifests(spec({app: 'https://example.org/pi.py'}), {...base, namespace: 'Bad_NS'})).toThrow(/invalid namespace/)
  })
})

describe('kubernetesJobName', () => {
  it('keeps a job id that is already a short DNS label', () => {
    expect(kubernetesJobName('pi-20261129-110000-ab12')).toBe('pi-20261129-110000-ab12')
  })

  it('makes any id a DNS label of at most 52 characters, distinct for distinct ids', () => {
    const a = kubernetesJobName('My_Job.v2-20261129-110000-ab12')
    const b = kubernetesJobName('my-job-v2-20261129-110000-ab12')
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    expect(a).not.toBe(b)
    const long = kubernetesJobName(`${'x'.repeat(63)}-20261129-110000-ab12`)
    expect(long.length).toBeLessThanOrEqual(52)
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    expect(long).not.toBe(kubernetesJobName(`${'x'.repeat(63)}-20261129-110000-ab13`))
  })
})

describe('readSpecFiles', () => {
  it('reads each local file once and skips URLs', async () => {
    const s = spec({app: '/w/pi.py', pyFiles: ['/w/lib.zip', 'https://example.org/x.zip'], files: ['/w/lib.zip']})
    expect(localPathsOf(s)).toEqual(['/w/pi.py', '/w/lib.zip'])
    const read: string[] = []
    const files = await readSpecFiles(s, {size: async () => 10, read: async (p) => (read.push(p), Buffer.from(p))})
    expect(Object.keys(files)).toEqual(['/w/pi.py', '/w/lib.zip'])
    expect(read).toEqual(['/w/pi.py', '/w/lib.zip'])
  })

  it('refuses before reading anything when the files exceed 1 MiB', async () => {
    const s = spec({app: '/w/pi.py', files: ['/w/big.bin']})
    let reads = 0
    await expect(readSpecFiles(s, {size: async (p) => (p === '/w/big.bin' ? 1 << 20 : 100), read: async () => (reads++, Buffer.alloc(0))})).rejects.toThrow(/at most 1 MiB/)
    expect(reads).toBe(0)
  })
})

describe('executor watcher', () => {
  it('polls executor pods instead of watching them unless told the cluster can serve watch lists', () => {
    const polled = submitOf(byKind(specToManifests(spec({app: 'https://example.org/pi.py'}), base), 'Job')).props
    expect(polled).toMatchObject({'spark.kubernetes.executor.enableApiWatcher': 'false', 'spark.kubernetes.executor.apiPollingInterval': '5s'})
    const watched = submitOf(byKind(specToManifests(spec({app: 'https://example.org/pi.py'}), {...base, executorWatcher: true}), 'Job')).props
    expect(watched['spark.kubernetes.executor.enableApiWatcher']).toBeUndefined()
  })
})

describe('kubernetesSpecTranslator', () => {
  it('gives each spec a fresh id, reads its local files and translates it', async () => {
    const {mkdtempSync, writeFileSync, rmSync} = await import('node:fs')
    const {join} = await import('node:path')
    const {tmpdir} = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'cms-k8s-translate-'))
    try {
      writeFileSync(join(dir, 'pi.py'), PI)
      const {kubernetesSpecTranslator} = await import('../../../src/jobs/kubernetes-translate.js')
      const translate = kubernetesSpecTranslator({image: 'cms/spark:4.3.0', namespace: 'jobs'})
      const objects = await translate({spec: spec({app: join(dir, 'pi.py'), name: 'Pi_Job'})})
      const job = byKind(objects, 'Job')
      expect(job.metadata.namespace).toBe('jobs')
      expect(job.metadata.annotations['cms.job-id']).toMatch(/^Pi_Job-\d{8}-\d{6}-[0-9a-f]{4}$/)
      expect(job.metadata.name).toMatch(/^pi-job-\d{8}-\d{6}-[0-9a-f]{4}-[0-9a-f]{8}$/)
      expect(job.metadata.annotations).toMatchObject({'cms.spec': 'Pi_Job', 'cms.kind': 'python'})
      expect(byKind(objects, 'ConfigMap').data.app).toBe(PI)
      const again = await translate({spec: spec({app: join(dir, 'pi.py'), name: 'Pi_Job'})})
      expect(byKind(again, 'Job').metadata.annotations['cms.job-id']).not.toBe(job.metadata.annotations['cms.job-id'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('conf on Kubernetes', () => {
  it('refuses properties the driver pod decides, naming each', () => {
    const s = spec({app: 'https://example.org/pi.py', conf: {'spark.driver.host': '10.0.0.1', 'spark.kubernetes.namespace': 'other'}})
    expect(() => specToManifests(s, base)).toThrow(UsageError)
    expect(() => specToManifests(s, base)).toThrow(/conf\.spark\.driver\.host: set by cms.*conf\.spark\.kubernetes\.namespace: the job runs in namespace default, not other/)
    expect(() => specToManifests(spec({app: 'https://example.org/pi.py', conf: {'spark.kubernetes.namespace': 'default'}}), base)).not.toThrow()
  })

  it("runs the driver's pod from the image and pull policy the conf names", () => {
    const s = spec({app: 'https://example.org/pi.py', conf: {'spark.kubernetes.container.image': 'registry.example.org/spark:9', 'spark.kubernetes.container.image.pullPolicy': 'IfNotPresent'}})
    const job = byKind(specToManifests(s, base), 'Job')
    expect(job.spec.template.spec.containers[0]).toMatchObject({image: 'registry.example.org/spark:9', imagePullPolicy: 'IfNotPresent'})
    expect(submitOf(job).props['spark.kubernetes.container.image']).toBe('registry.example.org/spark:9')
    const driverOnly = spec({app: 'https://example.org/pi.py', conf: {'spark.kubernetes.driver.container.image': 'd:1'}})
    expect(byKind(specToManifests(driverOnly, base), 'Job').spec.template.spec.containers[0].image).toBe('d:1')
  })
})

describe('specToManifests on a cluster with HDFS', () => {
  it("makes the cluster's HDFS the default file system, unless the spec's conf names another", () => {
    const fs = 'hdfs://hdfs-namenode-0.hdfs-namenode.cms-hdfs.svc.cluster.local:8020'
    const plain = submitOf(byKind(specToManifests(spec({app: '/work/pi.py'}), {...base, localFiles: {'/work/pi.py': PI}}), 'Job'))
    expect(plain.props['spark.hadoop.fs.defaultFS']).toBeUndefined()
    const withHdfs = submitOf(byKind(specToManifests(spec({app: '/work/pi.py'}), {...base, defaultFs: fs, localFiles: {'/work/pi.py': PI}}), 'Job'))
    expect(withHdfs.props['spark.hadoop.fs.defaultFS']).toBe(fs)
    const own = spec({app: '/work/pi.py', conf: {'spark.hadoop.fs.defaultFS': 'hdfs://elsewhere:8020'}})
    expect(submitOf(byKind(specToManifests(own, {...base, defaultFs: fs, localFiles: {'/work/pi.py': PI}}), 'Job')).props['spark.hadoop.fs.defaultFS']).toBe('hdfs://elsewhere:8020')
  })
})

describe('stock spark-submit through the tunnel', () => {
  it('spark-defaults.conf: the tunnel as master, cluster mode, the Spark service account for the submission and the driver, the image', () => {
    const text = sparkSubmitDefaults({apiUrl: 'https://127.0.0.1:23456', namespace: 'default', caFile: '/tmp/t/ca.pem', tokenFile: '/tmp/t/spark-token', image: 'cms/spark:4.3.0-abc'})
    expect(text).toBe(
      [
        'spark.master k8s://https://127.0.0.1:23456',
        'spark.submit.deployMode cluster',
        'spark.kubernetes.namespace default',
        'spark.kubernetes.authenticate.submission.caCertFile /tmp/t/ca.pem',
        'spark.kubernetes.authenticate.submission.oauthTokenFile /tmp/t/spark-token',
        `spark.kubernetes.authenticate.driver.serviceAccountName ${SPARK_SERVICE_ACCOUNT}`,
        'spark.kubernetes.container.image cms/spark:4.3.0-abc',
        '',
      ].join('\n'),
    )
    expect(sparkSubmitDefaults({apiUrl: 'https://127.0.0.1:1', namespace: 'default', caFile: '/c', tokenFile: '/t'})).not.toContain('container.image')
    expect(() => sparkSubmitDefaults({apiUrl: 'https://127.0.0.1:1', namespace: 'default', caFile: '/a dir/c', tokenFile: '/t'})).toThrow(/cannot be written/)
  })

  it('the Spark service account may manage pods, services and config maps of its namespace only', () => {
    const objects = sparkServiceAccountObjects('team-a')
    expect(objects.map((o) => [o.kind, o.metadata.namespace, o.metadata.name])).toEqual([
      ['ServiceAccount', 'team-a', SPARK_SERVICE_ACCOUNT],
      ['Role', 'team-a', SPARK_SERVICE_ACCOUNT],
      ['RoleBinding', 'team-a', SPARK_SERVICE_ACCOUNT],
    ])
    expect(objects.some((o) => /Cluster/.test(o.kind))).toBe(false)
    expect((objects[1] as {rules: Array<{resources: string[]}>}).rules.flatMap((r) => r.resources)).not.toContain('secrets')
  })
})
