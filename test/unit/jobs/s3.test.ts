import {describe, expect, it} from 'vitest'
import {attachS3Access, jobsNeedingS3, resolveS3Access} from '../../../src/cluster/s3-credentials.js'
import type {LoadedJob} from '../../../src/engines/engine.js'
import {specToManifests, type KubernetesObject} from '../../../src/jobs/kubernetes-translate.js'
import {nomadJobForSpec, nomadS3VariablePath} from '../../../src/jobs/nomad-translate.js'
import {
  checkS3Endpoint,
  checkS3Options,
  credentialsFileText,
  ENV_PROVIDER,
  PROFILE_PROVIDER,
  s3Environment,
  s3SparkProperties,
  secretValues,
  specUsesS3a,
  type S3Access,
} from '../../../src/jobs/s3.js'
import {restCreateRequest, sparkProperties} from '../../../src/jobs/spark-translate.js'
import {parseJobSpec, type JobSpec} from '../../../src/jobs/spec.js'
import {UsageError} from '../../../src/remote/errors.js'

const spec = (input: Record<string, unknown>): JobSpec => parseJobSpec(input, 'test')
const CREDS = {accessKeyId: 'AKIAEXAMPLEKEY123456', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN/abc+def=='}
const ACCESS: S3Access = {endpoint: 'http://172.30.0.1:9000', region: 'us-east-1', credentials: CREDS}
const wordcount = spec({app: '/w/wc.py', args: ['s3a://in/words.txt', 's3a://out/counts']})

/** Every secret value, also base64-encoded (a manifest's Secret data), must be absent from `text`. */
function expectNoSecret(text: string, c = CREDS): void {
  for (const v of secretValues(c)) {
    expect(text).not.toContain(v)
    expect(text).not.toContain(Buffer.from(v).toString('base64'))
  }
}

describe('which specs need S3', () => {
  it('finds s3a:// in args, conf, env, jars and files, in any case', () => {
    expect(specUsesS3a(wordcount)).toBe(true)
    expect(specUsesS3a(spec({app: '/w/a.py', conf: {'spark.sql.warehouse.dir': 'S3A://wh/'}}))).toBe(true)
    expect(specUsesS3a(spec({app: '/w/a.py', env: {OUT: 's3a://b/o'}}))).toBe(true)
    expect(specUsesS3a(spec({app: '/w/a.py', files: ['s3a://b/lookup.csv']}))).toBe(true)
    expect(specUsesS3a(spec({app: '/w/a.py', args: ['hdfs:///x', 'https://h/s3a.txt', 'mys3a://no']}))).toBe(false)
  })

  it('jobsNeedingS3: specs with s3a:// paths, or every spec with --s3; never a native jobfile', () => {
    const jobs: LoadedJob[] = [
      {file: 'a.yaml', name: 'a', spec: wordcount},
      {file: 'b.yaml', name: 'b', spec: spec({app: '/w/b.py'})},
      {file: 'c.hcl', name: 'c'},
    ]
    expect(jobsNeedingS3(jobs, {}).map((j) => j.name)).toEqual(['a'])
    expect(jobsNeedingS3(jobs, {force: true}).map((j) => j.name)).toEqual(['a', 'b'])
  })

  it('a spec that names its own S3A credentials provider (or keys) in conf gets none unless --s3 asks', () => {
    for (const key of ['spark.hadoop.fs.s3a.aws.credentials.provider', 'spark.hadoop.fs.s3a.bucket.public.aws.credentials.provider', 'spark.hadoop.fs.s3a.access.key']) {
      const own: LoadedJob = {file: 'o.yaml', name: 'o', spec: spec({app: '/w/o.py', args: ['s3a://b/k'], conf: {[key]: 'x'}})}
      expect(jobsNeedingS3([own], {}), key).toEqual([])
      expect(jobsNeedingS3([own], {force: true})).toEqual([own])
    }
  })
})

describe('the S3 settings', () => {
  it('--s3-endpoint: a scheme, host and port only', () => {
    expect(checkS3Endpoint('http://172.30.0.1:9000/')).toBe('http://172.30.0.1:9000')
    expect(checkS3Endpoint('https://s3.example.com')).toBe('https://s3.example.com')
    for (const bad of ['172.30.0.1:9000', 'ftp://h', 'http://k:s@h:9000', 'http://h:9000/bucket', 'http://h?x=1', 'nonsense']) {
      expect(() => checkS3Endpoint(bad), bad).toThrow(UsageError)
    }
  })

  it("the service's S3 flags are checked before it starts; nothing else is read then", () => {
    expect(checkS3Options({})).toEqual({})
    expect(checkS3Options({endpoint: 'http://172.30.0.1:9000/', region: 'eu-west-1', profile: 'etl'})).toEqual({endpoint: 'http://172.30.0.1:9000', region: 'eu-west-1', profile: 'etl'})
    expect(() => checkS3Options({endpoint: 'http://h:9000/bucket'})).toThrow(/invalid --s3-endpoint/)
    expect(() => checkS3Options({region: 'Europe'})).toThrow(/invalid S3 region "Europe" \(from --s3-region\)/)
  })

  it('an S3-compatible endpoint means path-style access, SSL as its scheme says, a region (us-east-1 by default)', () => {
    expect(s3SparkProperties({endpoint: 'http://10.0.0.5:9000'}, {kind: 'file', path: '/c/s3/x'})).toEqual({
      'spark.hadoop.fs.s3a.endpoint': 'http://10.0.0.5:9000',
      'spark.hadoop.fs.s3a.path.style.access': 'true',
      'spark.hadoop.fs.s3a.connection.ssl.enabled': 'false',
      'spark.hadoop.fs.s3a.endpoint.region': 'us-east-1',
      'spark.hadoop.fs.s3a.aws.credentials.provider': PROFILE_PROVIDER,
    })
    const https = s3SparkProperties({endpoint: 'https://minio.local', region: 'eu-west-1'}, {kind: 'env'})
    expect(https['spark.hadoop.fs.s3a.connection.ssl.enabled']).toBe('true')
    expect(https['spark.hadoop.fs.s3a.endpoint.region']).toBe('eu-west-1')
    expect(https['spark.hadoop.fs.s3a.aws.credentials.provider']).toBe(ENV_PROVIDER)
    // AWS itself: no endpoint, no path style; the region only when one is known.
    expect(s3SparkProperties({}, {kind: 'env'})).toEqual({'spark.hadoop.fs.s3a.aws.credentials.provider': ENV_PROVIDER})
  })

  it('the environment names the credentials file and its profile, never a secret', () => {
    expect(s3Environment(ACCESS, {kind: 'file', path: '/h/.cms/clusters/c/s3/j.credentials'})).toEqual({
      AWS_SHARED_CREDENTIALS_FILE: '/h/.cms/clusters/c/s3/j.credentials',
      AWS_PROFILE: 'default',
      AWS_EC2_METADATA_DISABLED: 'true',
    })
    expect(s3Environment({}, {kind: 'env'})).toEqual({})
  })

  it('the credentials file is one INI profile; a value that could add a line is refused without naming it', () => {
    expect(credentialsFileText(CREDS)).toBe(
      `[default]\naws_access_key_id = ${CREDS.accessKeyId}\naws_secret_access_key = ${CREDS.secretAccessKey}\naws_session_token = ${CREDS.sessionToken}\n`,
    )
    expect(credentialsFileText({accessKeyId: 'a', secretAccessKey: 'b'})).toBe('[default]\naws_access_key_id = a\naws_secret_access_key = b\n')
    for (const secretAccessKey of ['abc\n[evil]', 'with space', 'quote"d', '']) {
      let message = ''
      try {
        credentialsFileText({accessKeyId: 'a', secretAccessKey})
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toMatch(/contain a space, a quote or a control character/)
      if (secretAccessKey) expect(message).not.toContain(secretAccessKey)
    }
  })
})

describe('credentials at submit time', () => {
  const noLoader = async () => {
    throw new Error('the SDK chain must not be asked')
  }

  it('takes AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN from the environment', async () => {
    const env = {AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey, AWS_SESSION_TOKEN: CREDS.sessionToken, AWS_REGION: 'eu-central-1'}
    const r = await resolveS3Access({endpoint: 'http://172.30.0.1:9000/'}, env, noLoader)
    expect(r).toEqual({access: {endpoint: 'http://172.30.0.1:9000', region: 'eu-central-1', credentials: CREDS}, source: 'AWS_ACCESS_KEY_ID'})
  })

  it('--s3-profile (or AWS_PROFILE) goes through the SDK chain, even with keys in the environment', async () => {
    const asked: Array<string | undefined> = []
    const load = async (profile: string | undefined) => {
      asked.push(profile)
      return {accessKeyId: 'AKIAPROFILE', secretAccessKey: 'profile-secret'}
    }
    const env = {AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_ENDPOINT_URL_S3: 'http://10.1.1.1:9000', AWS_CONFIG_FILE: '/nonexistent'}
    const r = await resolveS3Access({profile: 'dev', region: 'us-west-2'}, env, load)
    expect(asked).toEqual(['dev'])
    expect(r.access).toEqual({endpoint: 'http://10.1.1.1:9000', region: 'us-west-2', credentials: {accessKeyId: 'AKIAPROFILE', secretAccessKey: 'profile-secret'}})
    expect(r.source).toBe('profile dev')
    const viaEnv = await resolveS3Access({}, {AWS_PROFILE: 'ops', AWS_CONFIG_FILE: '/nonexistent'}, load)
    expect(asked).toEqual(['dev', 'ops'])
    expect(viaEnv.source).toBe('profile ops')
  })

  it('no credentials: a usage error that says where cms looked', async () => {
    const fail = async () => {
      throw new Error('Could not load credentials from any providers')
    }
    await expect(resolveS3Access({}, {AWS_CONFIG_FILE: '/nonexistent'}, fail)).rejects.toThrow(/no AWS credentials were found: set AWS_ACCESS_KEY_ID/)
    await expect(resolveS3Access({profile: 'gone'}, {AWS_CONFIG_FILE: '/nonexistent'}, fail)).rejects.toThrow(UsageError)
    await expect(resolveS3Access({profile: 'bad name'}, {}, fail)).rejects.toThrow(/invalid AWS profile name/)
    await expect(resolveS3Access({region: 'mars'}, {AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b'}, fail)).rejects.toThrow(/invalid S3 region/)
  })

  it('attaches the access to the jobs that need it, once, and logs no secret', async () => {
    const jobs: LoadedJob[] = [
      {file: 'a.yaml', name: 'a', spec: wordcount},
      {file: 'b.yaml', name: 'b', spec: spec({app: '/w/b.py'})},
    ]
    const lines: string[] = []
    let loads = 0
    const load = async () => {
      loads++
      return CREDS
    }
    await attachS3Access(jobs, {takesS3Access: true}, {endpoint: 'http://172.30.0.1:9000'}, (l) => lines.push(l), {AWS_CONFIG_FILE: '/nonexistent'}, load)
    expect(loads).toBe(1)
    expect(jobs[0]!.s3?.credentials).toEqual(CREDS)
    expect(jobs[1]!.s3).toBeUndefined()
    expect(lines).toEqual(["S3: credentials from the AWS SDK's default chain, endpoint http://172.30.0.1:9000 (1 job)"])
    expectNoSecret(lines.join('\n'))
  })

  it('refuses an engine that cannot hand credentials on, and reads nothing when no job needs S3', async () => {
    const jobs: LoadedJob[] = [{file: 'a.yaml', name: 'a', spec: wordcount}]
    await expect(attachS3Access(jobs, {}, {}, () => {}, {}, async () => CREDS)).rejects.toThrow(/cannot pass S3 credentials/)
    const lines: string[] = []
    await attachS3Access([{file: 'b.yaml', name: 'b', spec: spec({app: '/w/b.py'})}], {}, {endpoint: 'http://h:1'}, (l) => lines.push(l), {}, async () => {
      throw new Error('not asked')
    })
    expect(lines[0]).toMatch(/No job names an s3a:\/\/ path/)
  })
})

describe('Spark standalone', () => {
  it('S3 properties come after those from fields and before the spec\'s conf, which wins', () => {
    const s = spec({app: '/w/wc.py', conf: {'spark.hadoop.fs.s3a.path.style.access': 'false'}})
    const props = sparkProperties(s, {masterUrl: 'spark://h:7077', appResource: '/w/wc.py', remoteJars: [], remoteFiles: [], remotePyFiles: [], extra: s3SparkProperties(ACCESS, {kind: 'file', path: '/p'})})
    expect(props['spark.hadoop.fs.s3a.endpoint']).toBe('http://172.30.0.1:9000')
    expect(props['spark.hadoop.fs.s3a.path.style.access']).toBe('false')
  })

  it("the REST request gives the driver the credentials file's path, not the credentials", () => {
    const s = spec({app: '/w/wc.jar', mainClass: 'x.Wc', env: {A: '1'}})
    const env = s3Environment(ACCESS, {kind: 'file', path: '/h/.cms/clusters/c/s3/j.credentials'})
    const req = restCreateRequest(s, {}, {appResource: 'file:/w/wc.jar', sparkVersion: '4.3.0', env})
    expect(req.environmentVariables).toEqual({A: '1', ...env})
    expectNoSecret(JSON.stringify(req))
  })
})

describe('Nomad', () => {
  const input = {jobId: 'wc-20261204-070000-ab12', sparkHome: '/h/.cms/dist/x/spark', appPath: '/h/f/wc.py', remoteJars: [], remoteFiles: [], remotePyFiles: []}

  it('a template renders the job\'s variable into the task\'s secrets dir; the job names only its path', () => {
    const job = nomadJobForSpec(wordcount, {...input, s3: {endpoint: ACCESS.endpoint, region: ACCESS.region}}) as any
    const task = job.TaskGroups[0].Tasks[0]
    expect(task.Templates).toEqual([
      {
        EmbeddedTmpl: '{{ with nomadVar "nomad/jobs/wc-20261204-070000-ab12" }}{{ .credentials }}{{ end }}',
        DestPath: 'secrets/s3-credentials',
        Perms: '0600',
        ChangeMode: 'noop',
      },
    ])
    expect(nomadS3VariablePath(input.jobId)).toBe('nomad/jobs/wc-20261204-070000-ab12')
    expect(task.Env).toMatchObject({AWS_SHARED_CREDENTIALS_FILE: '${NOMAD_SECRETS_DIR}/s3-credentials', AWS_PROFILE: 'default', AWS_EC2_METADATA_DISABLED: 'true'})
    expect(task.Config.args).toContain(`spark.hadoop.fs.s3a.aws.credentials.provider=${PROFILE_PROVIDER}`)
    expect(task.Config.args).toContain('spark.hadoop.fs.s3a.endpoint=http://172.30.0.1:9000')
    expect(job.Meta['cms.s3']).toBe('variable')
    expectNoSecret(JSON.stringify(job))
  })

  it('without S3: no template, no S3 settings', () => {
    const job = nomadJobForSpec(wordcount, input) as any
    expect(job.TaskGroups[0].Tasks[0].Templates).toBeUndefined()
    expect(JSON.stringify(job)).not.toContain('fs.s3a')
    expect(job.Meta['cms.s3']).toBeUndefined()
  })
})

describe('Kubernetes', () => {
  const base = {jobId: 'wc-20261204-070000-ab12', namespace: 'default', image: 'cms/spark:4.3.0', localFiles: {'/w/wc.py': 'print(1)\n'}}

  it('the credentials live in a Secret; the driver and the executors get them through secretKeyRef', () => {
    const objects = specToManifests(wordcount, {...base, s3: ACCESS})
    const secret = objects.find((o) => o.kind === 'Secret') as any
    expect(secret.metadata).toEqual({name: 'wc-20261204-070000-ab12-s3', namespace: 'default', labels: {'app.kubernetes.io/managed-by': 'cms', 'cms.job': 'wc-20261204-070000-ab12'}})
    expect(Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))).toEqual({
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDS.sessionToken,
    })
    // The Secret comes before the Job (applied in order; the prepare step also puts workloads last).
    expect(objects.findIndex((o) => o.kind === 'Secret')).toBeLessThan(objects.findIndex((o) => o.kind === 'Job'))
    const job = objects.find((o) => o.kind === 'Job') as any
    const container = job.spec.template.spec.containers[0]
    expect(container.env).toEqual(
      expect.arrayContaining([
        {name: 'AWS_EC2_METADATA_DISABLED', value: 'true'},
        {name: 'AWS_ACCESS_KEY_ID', valueFrom: {secretKeyRef: {name: 'wc-20261204-070000-ab12-s3', key: 'AWS_ACCESS_KEY_ID'}}},
        {name: 'AWS_SECRET_ACCESS_KEY', valueFrom: {secretKeyRef: {name: 'wc-20261204-070000-ab12-s3', key: 'AWS_SECRET_ACCESS_KEY'}}},
        {name: 'AWS_SESSION_TOKEN', valueFrom: {secretKeyRef: {name: 'wc-20261204-070000-ab12-s3', key: 'AWS_SESSION_TOKEN'}}},
      ]),
    )
    const args: string[] = container.args
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      expect(args).toContain(`spark.kubernetes.executor.secretKeyRef.${key}=wc-20261204-070000-ab12-s3:${key}`)
    }
    expect(args).toContain(`spark.hadoop.fs.s3a.aws.credentials.provider=${ENV_PROVIDER}`)
    expect(args).toContain('spark.executorEnv.AWS_EC2_METADATA_DISABLED=true')
    // Nothing but the Secret holds a secret.
    expectNoSecret(JSON.stringify(objects.filter((o: KubernetesObject) => o.kind !== 'Secret')))
  })

  it('without S3: no Secret', () => {
    const objects = specToManifests(wordcount, base)
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false)
    expect(JSON.stringify(objects)).not.toContain('fs.s3a')
  })
})
