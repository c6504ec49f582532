import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {aggregatedLogsScript, containerLogDir, missingFilesScript, parseSubmitOutput, submitScript} from '../../../../src/engines/hadoop/job-scripts.js'
import {amContainer, appTimes, attemptViews, logsPending, parseApplicationId, splitYarnLogs, stateOfApp, type YarnApp} from '../../../../src/engines/hadoop/job-state.js'
import {hadoopLayout} from '../../../../src/engines/hadoop/layout.js'
import {MAX_AM_ATTEMPTS, MAX_APPLICATION_PRIORITY} from '../../../../src/engines/hadoop/site-config.js'
import {executorEnvProperties, PROFILE_PROVIDER, s3Environment, s3SparkProperties, secretValues} from '../../../../src/jobs/s3.js'
import {appMasterEnvProperties, jobTag, yarnPriority, yarnSparkProperties, yarnSubmitArgv, type YarnSubmitInput} from '../../../../src/jobs/yarn-translate.js'
import {parseJobSpec, type JobSpec} from '../../../../src/jobs/spec.js'

const spec = (input: Record<string, unknown>): JobSpec => parseJobSpec(input, 'test')
const input = (over: Partial<YarnSubmitInput> = {}): YarnSubmitInput => ({
  jobId: 'pi-20261203-101010-abcd',
  appPath: '/h/files/1/pi.py',
  remoteJars: [],
  remoteFiles: [],
  remotePyFiles: [],
  maxPriority: MAX_APPLICATION_PRIORITY,
  maxAttempts: MAX_AM_ATTEMPTS,
  ...over,
})

describe('YARN state mapping', () => {
  it('maps every YARN application state and final status', () => {
    const cases: Array<[string, string, string]> = [
      ['NEW', 'UNDEFINED', 'SUBMITTED'],
      ['NEW_SAVING', 'UNDEFINED', 'SUBMITTED'],
      ['SUBMITTED', 'UNDEFINED', 'SUBMITTED'],
      ['ACCEPTED', 'UNDEFINED', 'SUBMITTED'],
      ['RUNNING', 'UNDEFINED', 'RUNNING'],
      ['FINISHED', 'SUCCEEDED', 'SUCCEEDED'],
      ['FINISHED', 'FAILED', 'FAILED'],
      ['FINISHED', 'KILLED', 'KILLED'],
      ['FINISHED', 'UNDEFINED', 'FAILED'],
      ['FAILED', 'FAILED', 'FAILED'],
      ['KILLED', 'KILLED', 'KILLED'],
      ['SOMETHING_NEW', 'UNDEFINED', 'UNKNOWN'],
    ]
    for (const [state, final, want] of cases) expect(stateOfApp(state, final), `${state}/${final}`).toBe(want)
    expect(stateOfApp(undefined, undefined)).toBe('UNKNOWN')
  })

  const app = (over: Partial<YarnApp> = {}): YarnApp => ({id: 'application_1_0001', name: 'pi', state: 'FAILED', finalStatus: 'FAILED', ...over})
  const submission = {n: 1, submittedAt: '2026-12-03T10:00:00.000Z', mode: 'cluster' as const, applicationId: 'application_1_0001'}

  it('one attempt per ApplicationMaster attempt: earlier ones failed, the latest has the application state', () => {
    const views = attemptViews(submission, app({state: 'RUNNING', finalStatus: 'UNDEFINED'}), [
      {id: 2, startTime: 2000, containerId: 'container_1_0001_02_000001', nodeHttpAddress: '10.0.0.3:8042', appAttemptId: 'appattempt_1_0001_000002', appAttemptState: 'RUNNING'},
      {id: 1, startTime: 1000, containerId: 'container_1_0001_01_000001', nodeHttpAddress: '10.0.0.2:8042', appAttemptState: 'FAILED'},
    ])
    expect(views.map((v) => [v.n, v.state, v.node, v.clientStatus])).toEqual([
      [1, 'FAILED', '10.0.0.2', 'FAILED'],
      [2, 'RUNNING', '10.0.0.3', 'RUNNING'],
    ])
    expect(views[1]).toMatchObject({mode: 'cluster', submissionId: 'application_1_0001', appAttemptId: 'appattempt_1_0001_000002', containerId: 'container_1_0001_02_000001', submittedAt: new Date(2000).toISOString()})
  })

  it('before YARN made an attempt, or when it forgot the application, the submission stands for it', () => {
    expect(attemptViews(submission, app({state: 'ACCEPTED', finalStatus: 'UNDEFINED'}), [])).toEqual([
      {mode: 'cluster', submissionId: 'application_1_0001', n: 1, submittedAt: submission.submittedAt, state: 'SUBMITTED', clientStatus: 'ACCEPTED'},
    ])
    expect(attemptViews(submission, undefined, [])[0]!.state).toBe('UNKNOWN')
  })

  it('a preempted earlier attempt is KILLED', () => {
    const views = attemptViews(submission, app({state: 'FINISHED', finalStatus: 'SUCCEEDED'}), [{id: 1, appAttemptState: 'KILLED'}, {id: 2, appAttemptState: 'FINISHED'}])
    expect(views.map((v) => v.state)).toEqual(['KILLED', 'SUCCEEDED'])
  })

  it('times from the application report', () => {
    expect(appTimes(app({startedTime: 1000, finishedTime: 0, elapsedTime: 500}))).toEqual({startedAt: new Date(1000).toISOString(), durationMs: 500})
    expect(appTimes(undefined)).toEqual({})
  })

  it('finds the ApplicationMaster container and its host', () => {
    expect(amContainer(app({amContainerLogs: 'http://10.0.0.3:8042/node/containerlogs/container_e02_1_0001_02_000001/root', amHostHttpAddress: '10.0.0.3:8042'}), [])).toEqual({
      containerId: 'container_e02_1_0001_02_000001',
      host: '10.0.0.3',
    })
    expect(amContainer(app({amContainerLogs: 'http://[fd00::3]:8042/node/containerlogs/container_1_0001_01_000001/root'}), [])).toEqual({containerId: 'container_1_0001_01_000001', host: 'fd00::3'})
    expect(amContainer(app(), [{id: 1, containerId: 'container_1_0001_01_000001', nodeHttpAddress: '10.0.0.2:8042'}])).toEqual({containerId: 'container_1_0001_01_000001', host: '10.0.0.2'})
    expect(amContainer(app(), [])).toBeUndefined()
  })
})

describe('Spark on YARN translation', () => {
  it('spec priority 0..1000 onto YARN 0..10, rounded up so any priority beats the default', () => {
    const cases: Array<[number, number]> = [[0, 0], [1, 1], [100, 1], [101, 2], [500, 5], [999, 10], [1000, 10], [-5, 0], [5000, 10]]
    for (const [p, want] of cases) expect(yarnPriority(p, 10), String(p)).toBe(want)
    expect(yarnPriority(1000, 0)).toBe(0)
    expect(yarnPriority(1, 0)).toBe(0)
    expect(() => yarnPriority(1, -1)).toThrow()
  })

  it('every app in cluster deploy mode on YARN; retries as AM attempts, priority, a tag naming the job', () => {
    const p = yarnSparkProperties(spec({name: 'pi', app: '/x/pi.py', retries: 2, priority: 700}), input())
    expect(p).toEqual({
      'spark.app.name': 'pi',
      'spark.master': 'yarn',
      'spark.submit.deployMode': 'cluster',
      'spark.yarn.maxAppAttempts': '3',
      'spark.yarn.priority': '7',
      'spark.yarn.tags': 'cms-job-pi-20261203-101010-abcd',
    })
    const jvm = yarnSparkProperties(spec({app: '/x/a.jar', mainClass: 'a.B'}), input({appPath: '/h/a.jar'}))
    expect(jvm).toMatchObject({'spark.submit.deployMode': 'cluster', 'spark.yarn.maxAppAttempts': '1', 'spark.yarn.priority': '0'})
  })

  it('attempts never exceed what the ResourceManager allows', () => {
    expect(yarnSparkProperties(spec({app: '/x/pi.py', retries: 10}), input({maxAttempts: 4}))['spark.yarn.maxAppAttempts']).toBe('4')
  })

  it('env reaches the driver (in the ApplicationMaster) and the executors; no standalone cores.max', () => {
    const p = yarnSparkProperties(spec({app: '/x/pi.py', env: {TZ: 'UTC'}, executor: {instances: 3, memory: '1g'}, driver: {memory: '768m', cores: 2}}), input())
    expect(p).toMatchObject({
      'spark.yarn.appMasterEnv.TZ': 'UTC',
      'spark.executorEnv.TZ': 'UTC',
      'spark.executor.instances': '3',
      'spark.executor.cores': '1',
      'spark.executor.memory': '1g',
      'spark.driver.memory': '768m',
      'spark.driver.cores': '2',
    })
    expect(p['spark.cores.max']).toBeUndefined()
  })

  it('S3: the store and the credentials file reach the ApplicationMaster (the driver) and the executors; no secret in a property', () => {
    const access = {endpoint: 'http://172.30.0.1:9000', credentials: {accessKeyId: 'AKIDSECRETISH', secretAccessKey: 'sEcReT/value'}}
    const via = {kind: 'file', path: '/home/a/.cms/clusters/c/s3/pi-1.credentials'} as const
    const env = s3Environment(access, via)
    const extra = {...s3SparkProperties(access, via), ...executorEnvProperties(env), ...appMasterEnvProperties(env)}
    const p = yarnSparkProperties(spec({app: '/x/wc.py', args: ['s3a://b/in'], conf: {'spark.hadoop.fs.s3a.endpoint.region': 'eu-west-1'}}), input({extra}))
    expect(p).toMatchObject({
      'spark.hadoop.fs.s3a.endpoint': 'http://172.30.0.1:9000',
      'spark.hadoop.fs.s3a.path.style.access': 'true',
      'spark.hadoop.fs.s3a.aws.credentials.provider': PROFILE_PROVIDER,
      'spark.yarn.appMasterEnv.AWS_SHARED_CREDENTIALS_FILE': via.path,
      'spark.executorEnv.AWS_SHARED_CREDENTIALS_FILE': via.path,
      'spark.yarn.appMasterEnv.AWS_PROFILE': 'default',
      'spark.yarn.appMasterEnv.AWS_EC2_METADATA_DISABLED': 'true',
      // The spec's conf still wins over what cms derives.
      'spark.hadoop.fs.s3a.endpoint.region': 'eu-west-1',
    })
    const text = JSON.stringify(p)
    for (const secret of secretValues(access.credentials)) expect(text).not.toContain(secret)
  })

  it("the user's conf wins, even over YARN's attempts and priority", () => {
    const p = yarnSparkProperties(spec({app: '/x/pi.py', retries: 3, conf: {'spark.yarn.maxAppAttempts': '1', 'spark.yarn.priority': '2', 'spark.cores.max': '4'}}), input())
    expect(p).toMatchObject({'spark.yarn.maxAppAttempts': '1', 'spark.yarn.priority': '2', 'spark.cores.max': '4'})
  })

  it('job tags are lowercased and bounded as YARN keeps them', () => {
    expect(jobTag('Pi-20261203-101010-ABCD')).toBe('cms-job-pi-20261203-101010-abcd')
    expect(jobTag('x'.repeat(121))).toHaveLength(100)
  })

  it('spark-submit argv: cluster deploy mode, staged lists as options, the app and its args last', () => {
    const s = spec({name: 'wc', app: '/x/wc.py', args: ['in', 'out'], pyFiles: ['/x/u.zip'], files: ['/x/f.csv']})
    expect(yarnSubmitArgv(s, input({appPath: '/h/wc.py', remotePyFiles: ['/h/u.zip'], remoteFiles: ['/h/f.csv']}))).toEqual([
      '--master', 'yarn', '--deploy-mode', 'cluster', '--name', 'wc',
      '--files', '/h/f.csv', '--py-files', '/h/u.zip',
      '--conf', 'spark.yarn.maxAppAttempts=1', '--conf', 'spark.yarn.priority=0', '--conf', 'spark.yarn.tags=cms-job-pi-20261203-101010-abcd',
      '/h/wc.py', 'in', 'out',
    ])
    const jvm = yarnSubmitArgv(spec({app: '/x/a.jar', mainClass: 'a.B', jars: ['/x/dep.jar']}), input({appPath: '/h/a.jar', remoteJars: ['/h/dep.jar']}))
    expect(jvm.slice(0, 10)).toEqual(['--master', 'yarn', '--deploy-mode', 'cluster', '--name', 'a', '--class', 'a.B', '--jars', '/h/dep.jar'])
    expect(jvm.at(-1)).toBe('/h/a.jar')
  })
})

describe('spark-submit and yarn logs output', () => {
  it('finds the application spark-submit submitted', () => {
    const out = [
      '26/12/03 10:00:01 INFO Client: Requesting a new application from cluster with 2 NodeManagers',
      '26/12/03 10:00:02 INFO Client: Submitted application application_1764756000000_0007',
      '26/12/03 10:00:03 INFO Client: Application report for application_1764756000000_0007 (state: ACCEPTED)',
    ].join('\n')
    expect(parseApplicationId(out)).toBe('application_1764756000000_0007')
    expect(parseApplicationId('tracking URL: http://h:8088/proxy/application_1_0002/')).toBe('application_1_0002')
    expect(parseApplicationId('Exception in thread "main"')).toBeUndefined()
  })

  it('reads the submit script output', () => {
    expect(parseSubmitOutput('cms-submit-exit=0\nline 1\nline 2\n')).toEqual({code: 0, log: 'line 1\nline 2\n'})
    expect(parseSubmitOutput('cms-submit-exit=1')).toEqual({code: 1, log: ''})
    expect(parseSubmitOutput('bash: oops')).toEqual({code: undefined, log: 'bash: oops'})
  })

  const section = (container: string, file: string, contents: string) => {
    const head = `Container: ${container} on 10.0.0.3_38213`
    const end = `End of LogType:${file}`
    return [head, 'LogAggregationType: AGGREGATED', '='.repeat(head.length), `LogType:${file}`, 'LogLastModifiedTime:Thu Dec 03 10:00:00 +0000 2026', `LogLength:${Buffer.byteLength(contents)}`, 'LogContents:', contents, end, '*'.repeat(end.length + 50), '', ''].join('\n')
  }

  it('splits yarn logs output into its files by their byte lengths', () => {
    const tricky = 'Pi is roughly 3.14 — π\nEnd of LogType:stdout\nlast line'
    const out = 'WARN some client warning\n' + section('container_1_0007_01_000001', 'stdout', tricky) + section('container_1_0007_01_000001', 'stderr', 'boom\n')
    expect(splitYarnLogs(out)).toEqual([
      {container: 'container_1_0007_01_000001', file: 'stdout', contents: tricky},
      {container: 'container_1_0007_01_000001', file: 'stderr', contents: 'boom\n'},
    ])
    expect(splitYarnLogs(section('container_1_0007_01_000001', 'stdout', ''))).toEqual([{container: 'container_1_0007_01_000001', file: 'stdout', contents: ''}])
    expect(splitYarnLogs('Log aggregation has not completed or is not enabled.')).toEqual([])
  })

  it('a file whose stated length is off is cut at its end marker', () => {
    const out = section('container_1_0007_01_000001', 'stdout', 'abc\n').replace('LogLength:4', 'LogLength:400')
    expect(splitYarnLogs(out)[0]!.contents).toBe('abc\n')
  })

  it('knows when logs are not aggregated yet', () => {
    expect(logsPending('Log aggregation has not completed or is not enabled.')).toBe(true)
    expect(logsPending('Can not find any log file matching the pattern: [stdout] for the application: application_1_1')).toBe(true)
    expect(logsPending(section('c', 'stdout', 'x'))).toBe(false)
  })
})

describe('YARN job scripts (run as shell)', () => {
  const layout = hadoopLayout('/home/u', 'hj')

  it('submit: spark-submit with the cluster configuration, its exit code and output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-yarn-'))
    const l = {...layout, sparkConfDir: join(dir, 'spark-conf'), confDir: join(dir, 'hadoop-conf')}
    mkdirSync(join(dir, 'spark', 'bin'), {recursive: true})
    mkdirSync(l.sparkConfDir)
    mkdirSync(join(dir, 'job'))
    writeFileSync(join(l.sparkConfDir, 'spark-env.sh'), 'export FROM_ENV=yes\n')
    writeFileSync(join(dir, 'spark', 'bin', 'spark-submit'), '#!/bin/sh\necho "conf=$SPARK_CONF_DIR hadoop=$HADOOP_CONF_DIR env=$FROM_ENV"\necho "jvm=$SPARK_SUBMIT_OPTS launcher=$SPARK_LAUNCHER_OPTS"\nfor a in "$@"; do echo "arg:$a"; done\necho "INFO Client: Submitted application application_5_0001" >&2\nexit 3\n', {mode: 0o755})
    const out = execFileSync('bash', ['-c', submitScript({jobDir: join(dir, 'job'), layout: l, sparkHome: join(dir, 'spark'), argv: ['--name', "it's a job", '$HOME']})]).toString()
    const {code, log} = parseSubmitOutput(out)
    expect(code).toBe(3)
    expect(log).toContain(`conf=${l.sparkConfDir} hadoop=${l.confDir} env=yes`)
    // The client JVM only hands the application over (cluster mode): C1 and the serial collector.
    expect(log).toContain('jvm=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC launcher=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC\n')
    expect(log).toContain("arg:it's a job\narg:$HOME\n")
    expect(parseApplicationId(log)).toBe('application_5_0001')
  })

  it('aggregated logs: the runtime launcher with the cluster configuration, the latest AM container only', () => {
    const script = aggregatedLogsScript({layout, hadoopHome: '/opt/hadoop', applicationId: 'application_1_0002'})
    expect(script).toContain("HADOOP_CONF_DIR=/home/u/.cms/clusters/hj/hadoop-conf")
    expect(script).toContain("HADOOP_OPTS='-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'")
    expect(script).toContain("/opt/hadoop/bin/yarn logs -applicationId application_1_0002 -am -1 -log_files stdout,stderr")
    expect(containerLogDir(layout, 'application_1_0002', 'container_1_0002_01_000001')).toBe('/home/u/.cms/clusters/hj/logs/containers/application_1_0002/container_1_0002_01_000001')
  })

  it('lists the staged files that are gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-yarn-'))
    writeFileSync(join(dir, 'a b.py'), '')
    const out = execFileSync('bash', ['-c', missingFilesScript([join(dir, 'a b.py'), join(dir, "gone'.jar")])]).toString()
    expect(out).toBe(`${join(dir, "gone'.jar")}\n`)
    expect(execFileSync('bash', ['-c', missingFilesScript([])]).toString()).toBe('')
  })
})
