import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {deflateRawSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {mapreduceConfScript, mapreduceRunner} from '../../../../src/engines/hadoop/job-scripts.js'
import {stateOfDriverProgram, type YarnApp} from '../../../../src/engines/hadoop/job-state.js'
import {hadoopLayout} from '../../../../src/engines/hadoop/layout.js'
import {renderProperty} from '../../../../src/engines/hadoop/xml.js'
import {classifyJar, zipEntries, zipEntryData} from '../../../../src/jobs/jar-inspect.js'
import {mapreduceProperties, memoryMb} from '../../../../src/jobs/mapreduce-translate.js'
import {parseJobSpec, type JobSpec} from '../../../../src/jobs/spec.js'

/** A zip (jar) in memory: each entry deflated unless `stored`. */
function zip(entries: Array<{name: string; data: string | Buffer; stored?: boolean}>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const raw = Buffer.from(e.data)
    const body = e.stored ? raw : deflateRawSync(raw)
    const name = Buffer.from(e.name)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(e.stored ? 0 : 8, 8)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(raw.length, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(e.stored ? 0 : 8, 10)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(raw.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, body)
    centrals.push(central, name)
    offset += local.length + name.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

const cls = (...names: string[]) => Buffer.concat([Buffer.from([0xca, 0xfe, 0xba, 0xbe]), ...names.map((n) => Buffer.from(`\u0001${n}`))])

describe('which framework a jar is for', () => {
  it('reads stored and deflated entries', () => {
    const z = zip([{name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n', stored: true}, {name: 'a/B.class', data: cls('java/lang/Object')}])
    const entries = zipEntries(z)
    expect(entries.map((e) => e.name)).toEqual(['META-INF/MANIFEST.MF', 'a/B.class'])
    expect(zipEntryData(z, entries[0]!)!.toString()).toBe('Manifest-Version: 1.0\n')
    expect(zipEntryData(z, entries[1]!)).toEqual(cls('java/lang/Object'))
    expect(zipEntries(Buffer.from('not a zip at all, just some bytes here'))).toEqual([])
  })

  it('a main class using MapReduce and not Spark is a MapReduce job', () => {
    const wc = zip([
      {name: 'org/x/WordCount.class', data: cls('org/apache/hadoop/mapreduce/Job', 'org/apache/hadoop/conf/Configuration')},
      {name: 'org/x/WordCount$Tokens.class', data: cls('org/apache/hadoop/mapreduce/Mapper')},
    ])
    expect(classifyJar(wc, 'org.x.WordCount')).toBe('mapreduce')
    expect(classifyJar(zip([{name: 'Old.class', data: cls('org/apache/hadoop/mapred/JobConf')}]), 'Old')).toBe('mapreduce')
  })

  it('Spark anywhere in the main class makes it Spark, even beside Hadoop classes', () => {
    const app = zip([{name: 'CmsE2eJob.class', data: cls('org/apache/spark/sql/SparkSession', 'org/apache/hadoop/mapreduce/Job')}])
    expect(classifyJar(app, 'CmsE2eJob')).toBe('spark')
  })

  it('a main class naming neither: the rest of the jar decides; nothing at all means Spark', () => {
    const launcher = zip([{name: 'Main.class', data: cls('org/x/Runner')}, {name: 'org/x/Runner.class', data: cls('org/apache/hadoop/mapreduce/Job')}])
    expect(classifyJar(launcher, 'Main')).toBe('mapreduce')
    expect(classifyJar(zip([{name: 'Main.class', data: cls('java/lang/Object')}]), 'Main')).toBe('spark')
    expect(classifyJar(Buffer.from('garbage'), 'Main')).toBe('spark')
  })
})

const spec = (input: Record<string, unknown>): JobSpec => parseJobSpec(input, 'test')
const base = {jobId: 'wc-20261204-000000-abcd', hadoopHome: '/opt/hadoop', jars: [], files: [], maxPriority: 10, maxAttempts: 11}

describe('MapReduce translation', () => {
  it('sizes in MiB', () => {
    expect([memoryMb('512m'), memoryMb('2g'), memoryMb('1024'), memoryMb('1536k'), memoryMb('1t'), memoryMb('3G')]).toEqual([512, 2048, 1024, 2, 1048576, 3072])
    expect(() => memoryMb('lots')).toThrow()
  })

  it('tag, name, retries as AM attempts, priority; HADOOP_MAPRED_HOME for the AM and tasks', () => {
    const p = Object.fromEntries(mapreduceProperties(spec({name: 'wc', app: '/x/wc.jar', mainClass: 'WordCount', retries: 2, priority: 1000}), base))
    expect(p).toEqual({
      'mapreduce.job.tags': 'cms-job-wc-20261204-000000-abcd',
      'mapreduce.job.name': 'wc',
      'mapreduce.am.max-attempts': '3',
      'mapreduce.job.priority': '10',
      'yarn.app.mapreduce.am.env': 'HADOOP_MAPRED_HOME=/opt/hadoop',
      'mapreduce.map.env': 'HADOOP_MAPRED_HOME=/opt/hadoop',
      'mapreduce.reduce.env': 'HADOOP_MAPRED_HOME=/opt/hadoop',
    })
  })

  it('driver resources are the AM’s, executor resources each task’s; jars and files ship with the tasks; env', () => {
    const s = spec({app: '/x/wc.jar', mainClass: 'W', driver: {memory: '1g', cores: 2}, executor: {memory: '768m', cores: 1}, env: {TZ: 'UTC'}})
    const p = Object.fromEntries(mapreduceProperties(s, {...base, jars: ['/h/dep.jar', 'https://e/x.jar'], files: ['/h/f.txt']}))
    expect(p).toMatchObject({
      'yarn.app.mapreduce.am.resource.mb': '1024',
      'yarn.app.mapreduce.am.resource.cpu-vcores': '2',
      'mapreduce.map.memory.mb': '768',
      'mapreduce.reduce.memory.mb': '768',
      'mapreduce.map.cpu.vcores': '1',
      'mapreduce.reduce.cpu.vcores': '1',
      tmpjars: 'file:///h/dep.jar,https://e/x.jar',
      tmpfiles: 'file:///h/f.txt',
      'mapreduce.map.env': 'HADOOP_MAPRED_HOME=/opt/hadoop,TZ=UTC',
    })
    expect(() => mapreduceProperties(spec({app: '/x/wc.jar', mainClass: 'W', env: {L: 'a,b'}}), base)).toThrow(/comma/)
  })

  it('the state of a hadoop jar job: the exit code once ended, else its application, RUNNING between applications', () => {
    const app = (state: string, finalStatus = 'UNDEFINED'): YarnApp => ({id: 'application_1_1', name: 'wc', state, finalStatus})
    expect(stateOfDriverProgram(app('FINISHED', 'SUCCEEDED'), 0, false, false)).toBe('SUCCEEDED')
    expect(stateOfDriverProgram(app('FINISHED', 'SUCCEEDED'), 1, false, false)).toBe('FAILED')
    expect(stateOfDriverProgram(app('KILLED', 'KILLED'), 1, false, false)).toBe('KILLED')
    expect(stateOfDriverProgram(app('RUNNING'), 143, false, true)).toBe('KILLED')
    expect(stateOfDriverProgram(app('FINISHED', 'SUCCEEDED'), undefined, true, false)).toBe('RUNNING')
    expect(stateOfDriverProgram(app('ACCEPTED'), undefined, true, false)).toBe('SUBMITTED')
    expect(stateOfDriverProgram(undefined, undefined, true, false)).toBe('SUBMITTED')
    expect(stateOfDriverProgram(app('RUNNING'), undefined, true, true)).toBe('KILLED')
    expect(stateOfDriverProgram(app('FINISHED', 'FAILED'), undefined, false, false)).toBe('FAILED')
  })
})

describe('MapReduce job scripts (run as shell)', () => {
  it("the job's configuration: the cluster's files, its properties added to mapred-site.xml", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-mr-'))
    const layout = {...hadoopLayout('/h', 'c'), confDir: join(dir, 'cluster-conf')}
    mkdirSync(layout.confDir)
    writeFileSync(join(layout.confDir, 'core-site.xml'), '<configuration/>\n')
    writeFileSync(join(layout.confDir, 'mapred-site.xml'), '<configuration>\n  <property><name>a</name><value>1</value></property>\n</configuration>\n')
    const xml = [renderProperty(['mapreduce.job.tags', "cms-job-x'y"]), renderProperty(['mapreduce.job.priority', '3'])].join('\n')
    execFileSync('bash', ['-c', mapreduceConfScript({jobDir: join(dir, 'job'), layout, propertiesXml: xml})])
    expect(readFileSync(join(dir, 'job', 'conf', 'core-site.xml'), 'utf8')).toBe('<configuration/>\n')
    expect(readFileSync(join(dir, 'job', 'conf', 'mapred-site.xml'), 'utf8')).toBe(
      `<configuration>\n  <property><name>a</name><value>1</value></property>\n${xml}\n</configuration>\n`,
    )
    expect(readFileSync(join(layout.confDir, 'mapred-site.xml'), 'utf8')).not.toContain('tags')
  })

  it('the runner: hadoop jar with the job configuration, classpath and env; output and exit code kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-mr-'))
    const home = join(dir, 'hadoop')
    mkdirSync(join(home, 'bin'), {recursive: true})
    writeFileSync(join(home, 'bin', 'hadoop'), '#!/bin/sh\necho "conf=$HADOOP_CONF_DIR cp=$HADOOP_CLASSPATH tz=$TZ"\nfor a in "$@"; do echo "arg:$a"; done\nexit 4\n', {mode: 0o755})
    const job = join(dir, 'job')
    mkdirSync(job)
    const runner = mapreduceRunner({jobDir: job, layout: hadoopLayout('/h', 'c'), hadoopHome: home, app: '/s/wc.jar', mainClass: 'W', args: ['in dir', '$OUT'], classpath: ['/s/a.jar', '/s/b.jar'], env: {TZ: "it's"}})
    writeFileSync(join(job, 'run.sh'), runner)
    execFileSync('bash', [join(job, 'run.sh')])
    expect(readFileSync(join(job, 'attempt-1.log'), 'utf8')).toBe(`conf=${job}/conf cp=/s/a.jar:/s/b.jar tz=it's\narg:jar\narg:/s/wc.jar\narg:W\narg:in dir\narg:$OUT\n`)
    expect(readFileSync(join(job, 'attempt-1.exit'), 'utf8').trim()).toBe('4')
  })
})

describe('why a client failed, in one line', () => {
  it('the first exception it names, without its timestamp; else its last line', async () => {
    const {failureLine} = await import('../../../../src/engines/hadoop/job-state.js')
    const out = [
      '2026-12-04 06:39:00,904 INFO client.DefaultNoHARMFailoverProxyProvider: Connecting to ResourceManager at /172.31.0.3:8032',
      'Exception in thread "main" org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory hdfs://h:8020/out already exists',
      '\tat org.apache.hadoop.mapreduce.lib.output.FileOutputFormat.checkOutputSpecs(FileOutputFormat.java:164)',
      '\tat org.apache.hadoop.util.RunJar.main(RunJar.java:254)',
    ].join('\n')
    expect(failureLine(out)).toBe('Exception in thread "main" org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory hdfs://h:8020/out already exists')
    expect(failureLine('26/12/04 10:00:01 ERROR SparkSubmit: No main class set\n')).toBe('SparkSubmit: No main class set')
    expect(failureLine('just this\n\tat x\n')).toBe('just this')
    expect(failureLine('')).toBe('no output')
  })
})
