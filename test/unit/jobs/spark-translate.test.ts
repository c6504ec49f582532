import {describe, expect, it} from 'vitest'
import {restCreateRequest, sparkProperties, sparkSubmitArgv} from '../../../src/jobs/spark-translate.js'
import {parseJobSpec, type JobSpec} from '../../../src/jobs/spec.js'

const master = 'spark://10.0.0.2:7077'
const spec = (input: Record<string, unknown>): JobSpec => parseJobSpec(input, 'test')
const none = {remoteJars: [], remoteFiles: [], remotePyFiles: []}

describe('sparkProperties', () => {
  it('JVM apps run in cluster deploy mode', () => {
    const s = spec({name: 'pi', app: '/x/pi.jar', mainClass: 'a.Pi'})
    expect(sparkProperties(s, {masterUrl: master, appResource: 'file:/r/pi.jar', ...none})).toEqual({
      'spark.app.name': 'pi',
      'spark.master': master,
      'spark.submit.deployMode': 'cluster',
    })
  })

  it('Python apps run in client deploy mode', () => {
    const s = spec({app: '/x/pi.py'})
    expect(sparkProperties(s, {masterUrl: master, appResource: '/r/pi.py', ...none})['spark.submit.deployMode']).toBe('client')
  })

  it('maps resources; instances become spark.cores.max = instances × cores', () => {
    const s = spec({app: '/x/pi.py', driver: {cores: 2, memory: '1g'}, executor: {cores: 3, memory: '2g', instances: 4}})
    expect(sparkProperties(s, {masterUrl: master, appResource: '/r/pi.py', ...none})).toMatchObject({
      'spark.driver.cores': '2',
      'spark.driver.memory': '1g',
      'spark.executor.cores': '3',
      'spark.executor.memory': '2g',
      'spark.executor.instances': '4',
      'spark.cores.max': '12',
    })
  })

  it('instances without cores: one core per executor, so exactly N executors start', () => {
    const p = sparkProperties(spec({app: '/x/pi.py', executor: {instances: 5}}), {masterUrl: master, appResource: '/r/pi.py', ...none})
    expect(p).toMatchObject({'spark.executor.instances': '5', 'spark.executor.cores': '1', 'spark.cores.max': '5'})
  })

  it('no executor settings: no cores.max (the job may use the whole cluster)', () => {
    const p = sparkProperties(spec({app: '/x/pi.py'}), {masterUrl: master, appResource: '/r/pi.py', ...none})
    expect(p['spark.cores.max']).toBeUndefined()
    expect(p['spark.executor.cores']).toBeUndefined()
  })

  it('joins staged lists with commas and passes env to executors', () => {
    const s = spec({app: '/x/pi.py', env: {TZ: 'UTC'}})
    const p = sparkProperties(s, {masterUrl: master, appResource: '/r/pi.py', remoteJars: ['/r/a.jar', 'https://h/b.jar'], remoteFiles: ['/r/f.csv'], remotePyFiles: ['/r/u.zip', '/r/v.py']})
    expect(p).toMatchObject({'spark.jars': '/r/a.jar,https://h/b.jar', 'spark.files': '/r/f.csv', 'spark.submit.pyFiles': '/r/u.zip,/r/v.py', 'spark.executorEnv.TZ': 'UTC'})
  })

  it("the user's conf wins over properties derived from fields", () => {
    const s = spec({app: '/x/pi.py', executor: {memory: '2g', instances: 2}, conf: {'spark.executor.memory': '8g', 'spark.cores.max': '100'}})
    const p = sparkProperties(s, {masterUrl: master, appResource: '/r/pi.py', ...none})
    expect(p['spark.executor.memory']).toBe('8g')
    expect(p['spark.cores.max']).toBe('100')
  })
})

describe('restCreateRequest', () => {
  it('has the shape of CreateSubmissionRequest', () => {
    const s = spec({name: 'pi', app: '/x/pi.jar', mainClass: 'org.apache.spark.examples.SparkPi', args: [100], env: {A: 'b'}})
    const props = sparkProperties(s, {masterUrl: master, appResource: 'file:/r/pi.jar', ...none})
    const body = restCreateRequest(s, props, {appResource: 'file:/r/pi.jar', sparkVersion: '4.0.1'})
    expect(body).toEqual({
      action: 'CreateSubmissionRequest',
      appResource: 'file:/r/pi.jar',
      mainClass: 'org.apache.spark.examples.SparkPi',
      appArgs: ['100'],
      clientSparkVersion: '4.0.1',
      environmentVariables: {A: 'b'},
      sparkProperties: {...props},
    })
    expect(JSON.parse(JSON.stringify(body))).toEqual(body)
    expect(body.sparkProperties['spark.app.name']).toBe('pi')
  })

  it('refuses a Python app (no main class; Python runs in client mode)', () => {
    const s = spec({app: '/x/pi.py'})
    expect(() => restCreateRequest(s, {}, {appResource: '/r/pi.py', sparkVersion: '4.0.1'})).toThrow(/mainClass/)
  })
})

describe('sparkSubmitArgv', () => {
  it('builds a client-mode argv; arguments are passed verbatim, never shell-quoted', () => {
    const s = spec({name: 'wc', app: '/x/wc.py', args: ["it's", 'a b', '$HOME', '; rm -rf /'], conf: {'spark.x': 'v w'}, executor: {memory: '1g'}})
    const props = sparkProperties(s, {masterUrl: master, appResource: '/r/wc.py', remoteJars: ['/r/a.jar'], remoteFiles: ['/r/f.csv'], remotePyFiles: ['/r/u.zip']})
    expect(sparkSubmitArgv(s, props, {appPath: '/r/wc.py'})).toEqual([
      '--master', master,
      '--deploy-mode', 'client',
      '--name', 'wc',
      '--jars', '/r/a.jar',
      '--files', '/r/f.csv',
      '--py-files', '/r/u.zip',
      '--conf', 'spark.executor.memory=1g',
      '--conf', 'spark.x=v w',
      '/r/wc.py', "it's", 'a b', '$HOME', '; rm -rf /',
    ])
  })

  it('adds --class for a JVM app run in client mode', () => {
    const s = spec({app: '/x/pi.jar', mainClass: 'a.Pi', args: ['1']})
    const props = sparkProperties(s, {masterUrl: master, appResource: '/r/pi.jar', ...none})
    const argv = sparkSubmitArgv(s, props, {appPath: '/r/pi.jar'})
    expect(argv).toEqual(['--master', master, '--deploy-mode', 'client', '--name', 'pi', '--class', 'a.Pi', '/r/pi.jar', '1'])
  })
})
