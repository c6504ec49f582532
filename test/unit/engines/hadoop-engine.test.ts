import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Host} from '../../../src/providers/provider.js'
import {dataNodesByAddress, hadoopClusterInfo, hostOf, nodeManagersByAddress, type HadoopState} from '../../../src/engines/hadoop/describe.js'
import {hadoopSettingsFromRecord} from '../../../src/engines/hadoop/engine.js'
import {hadoopLayout} from '../../../src/engines/hadoop/layout.js'
import {cleanupScript, excludeScript, formatScript, leftoverScript, startDaemonScript, writeConfigScript, writeSparkConfigScript} from '../../../src/engines/hadoop/scripts.js'
import {sparkDefaultsForTunnel, sparkDefaultsForYarn, sparkEnvForYarn} from '../../../src/engines/hadoop/spark-on-yarn.js'
import {parsePublish, publishSparkScript, sparkHdfsDir, sparkOnHdfs} from '../../../src/engines/hadoop/spark-archive.js'
import {hadoopVersionFromName} from '../../../src/engines/hadoop/dist.js'
import {checkDataNodesLeft} from '../../../src/engines/hadoop/hdfs-beside.js'

const host = (id: string, role: Host['role'], address: string): Host =>
  ({id, role, target: {host: address, port: 22, user: 'root'}, privateAddress: address, state: 'running'}) as Host

const HOSTS = [host('h1', 'head', '10.0.0.2'), host('h2', 'worker', '10.0.0.3')]

const live = (ip: string, adminState = 'In Service') => ({xferaddr: `${ip}:9866`, adminState, capacity: 100, used: 10})

function state(over: Partial<HadoopState> = {}): HadoopState {
  return {
    namenode: {LiveNodes: JSON.stringify({'10.0.0.2:9866': live('10.0.0.2'), '10.0.0.3:9866': live('10.0.0.3')}), DeadNodes: '{}', Safemode: '', Total: 200, Used: 20},
    rmState: 'STARTED',
    nodes: [
      {id: '10.0.0.2:8041', nodeHostName: '10.0.0.2', state: 'RUNNING', usedMemoryMB: 512, availMemoryMB: 1536, usedVirtualCores: 1, availableVirtualCores: 1, numContainers: 1},
      {id: '10.0.0.3:8041', nodeHostName: '10.0.0.3', state: 'RUNNING', availMemoryMB: 2048, availableVirtualCores: 2},
    ],
    metrics: {appsRunning: 1, appsPending: 0, totalMB: 4096, allocatedMB: 512, totalVirtualCores: 4, allocatedVirtualCores: 1},
    ...over,
  }
}

describe('hadoop cluster state', () => {
  it('finds DataNodes and NodeManagers by their private address', () => {
    const dns = dataNodesByAddress(state().namenode)
    expect([...dns.keys()].sort()).toEqual(['10.0.0.2', '10.0.0.3'])
    expect(dns.get('10.0.0.2')).toEqual({state: 'live', adminState: 'In Service', capacityBytes: 100, usedBytes: 10})
    const nms = nodeManagersByAddress(state().nodes)
    expect(nms.get('10.0.0.2')).toMatchObject({state: 'RUNNING', memoryMb: 2048, memoryUsedMb: 512, vcores: 2, vcoresUsed: 1, containers: 1})
    expect(hostOf('[fd00::2]:8041')).toBe('fd00::2')
  })

  it('keeps the running NodeManager when a host left and came back', () => {
    const nms = nodeManagersByAddress([
      {id: '10.0.0.3:8041', nodeHostName: '10.0.0.3', state: 'RUNNING'},
      {id: '10.0.0.3:8041', nodeHostName: '10.0.0.3', state: 'DECOMMISSIONED'},
    ])
    expect(nms.get('10.0.0.3')?.state).toBe('RUNNING')
  })

  it('is healthy only out of safe mode with every computing host live and running', () => {
    const ok = hadoopClusterInfo('c', 'docker', HOSTS, {state: state(), headAddress: '10.0.0.2', headComputes: true})
    expect(ok.health).toBe('healthy')
    expect(ok.hdfs).toMatchObject({namenodeUrl: 'hdfs://10.0.0.2:8020', liveDataNodes: 2, deadDataNodes: 0, capacityBytes: 200})
    expect(ok.yarn).toMatchObject({resourceManagerUrl: 'http://10.0.0.2:8088', state: 'STARTED', runningNodeManagers: 2, memoryMb: 4096, vcoresUsed: 1, runningApps: 1})
    const safe = hadoopClusterInfo('c', 'docker', HOSTS, {state: state({namenode: {...state().namenode, Safemode: 'Safe mode is ON.'}}), headAddress: '10.0.0.2', headComputes: true})
    expect(safe.health).toBe('degraded')
    expect(safe.hdfs?.safeMode).toBe('Safe mode is ON.')
    const decommissioning = state({namenode: {...state().namenode, LiveNodes: JSON.stringify({a: live('10.0.0.2'), b: live('10.0.0.3', 'Decommission In Progress')})}})
    expect(hadoopClusterInfo('c', 'docker', HOSTS, {state: decommissioning, headAddress: '10.0.0.2', headComputes: true}).health).toBe('degraded')
    expect(hadoopClusterInfo('c', 'docker', HOSTS, {headComputes: true, error: 'connection refused'})).toMatchObject({health: 'down', masterError: 'connection refused'})
  })

  it('does not expect daemons on a head created with --head-compute=false', () => {
    const workerOnly = state({
      namenode: {LiveNodes: JSON.stringify({b: live('10.0.0.3')}), DeadNodes: '{}', Safemode: ''},
      nodes: [{id: '10.0.0.3:8041', nodeHostName: '10.0.0.3', state: 'RUNNING'}],
    })
    expect(hadoopClusterInfo('c', 'docker', HOSTS, {state: workerOnly, headAddress: '10.0.0.2', headComputes: false}).health).toBe('healthy')
    expect(hadoopClusterInfo('c', 'docker', HOSTS, {state: workerOnly, headAddress: '10.0.0.2', headComputes: true}).health).toBe('degraded')
  })

  it('does not count a decommissioned DataNode as live', () => {
    const gone = state({namenode: {...state().namenode, LiveNodes: JSON.stringify({a: live('10.0.0.2'), b: live('10.0.0.3'), c: live('10.0.0.4', 'Decommissioned')})}})
    expect(hadoopClusterInfo('c', 'docker', HOSTS, {state: gone, headAddress: '10.0.0.2', headComputes: true}).hdfs?.liveDataNodes).toBe(2)
  })

  it('reads the recorded settings, the head computing unless told otherwise', () => {
    expect(hadoopSettingsFromRecord({})).toEqual({headComputes: true, replication: 1, hostMemoryMb: undefined})
    expect(hadoopSettingsFromRecord({headComputes: 'false', replication: '3', hostMemoryMb: '4096'})).toEqual({headComputes: false, replication: 3, hostMemoryMb: 4096})
    expect(hadoopVersionFromName('/x/hadoop-3.4.3-cms.tgz')).toBe('3.4.3')
  })
})

describe('hadoop host scripts', () => {
  const layout = hadoopLayout('/home/u', 'c1')

  it('are valid shell', () => {
    const scripts = [
      writeConfigScript(layout, {'core-site.xml': "<x>it's</x>"}),
      writeSparkConfigScript(layout, {'spark-defaults.conf': 'spark.master yarn\n'}),
      formatScript(layout, '/opt/h', 'cms-c1'),
      startDaemonScript(layout, '/opt/h', 'nodemanager', 'abc', ['-Djdk.net.hosts.file=/x']),
      excludeScript(layout, '/opt/h', ['10.0.0.3'], true, 30),
      cleanupScript(layout, '/home/u'),
      leftoverScript(layout),
    ]
    for (const s of scripts) execFileSync('bash', ['-n', '-c', s])
  })

  it('never holds the log or data path literally in the cleanup script (its patterns would find the script itself)', () => {
    const s = cleanupScript(layout, '/home/u')
    expect(s).not.toContain(layout.logDir)
    expect(s).not.toContain(layout.dataDir)
    expect(s).toContain('[/]home/u/\\.cms/clusters/c1/logs')
  })

  it('formats only a NameNode folder that holds no file system', () => {
    const s = formatScript(layout, '/opt/h', 'cms-c1')
    expect(s).toContain(`${layout.dirs.name}/current/VERSION`)
    expect(s).toMatch(/format -clusterid cms-c1 /)
    // A JVM that formats and exits: no C2 compilation.
    expect(s).toContain("HADOOP_OPTS='-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'")
  })

  it('decommissions gracefully through both exclude files, refreshing only on a change', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-exclude-'))
    const l = {...layout, confDir: dir, dirs: {...layout.dirs, conf: dir}}
    const bin = mkdtempSync(join(tmpdir(), 'cms-hbin-'))
    execFileSync('mkdir', ['-p', join(bin, 'bin')])
    const calls = join(bin, 'calls')
    for (const tool of ['hdfs', 'yarn']) writeFileSync(join(bin, 'bin', tool), `#!/bin/sh\necho ${tool} "$@" "[$HADOOP_OPTS]" >> ${calls}\n`, {mode: 0o755})
    const run = (addresses: string[], excluded: boolean) => execFileSync('bash', ['-c', excludeScript(l, bin, addresses, excluded, 30)], {encoding: 'utf8'}).trim()
    expect(run(['10.0.0.3'], true)).toBe('changed')
    expect(readFileSync(join(dir, 'dfs.exclude'), 'utf8')).toBe('10.0.0.3\n')
    expect(readFileSync(join(dir, 'yarn.exclude'), 'utf8')).toBe('10.0.0.3\n')
    const opts = '[-XX:TieredStopAtLevel=1 -XX:+UseSerialGC]'
    expect(readFileSync(calls, 'utf8')).toBe(`hdfs dfsadmin -refreshNodes ${opts}\nyarn rmadmin -refreshNodes -g 30 -server ${opts}\n`)
    expect(run(['10.0.0.3'], true)).toBe('unchanged')
    expect(run(['10.0.0.2', '10.0.0.3'], false)).toBe('changed')
    expect(readFileSync(join(dir, 'dfs.exclude'), 'utf8')).toBe('')
    expect(readFileSync(calls, 'utf8').split('\n').filter(Boolean)).toHaveLength(4)
  })
})

describe('Spark on YARN configuration', () => {
  const onHdfs = sparkOnHdfs('hdfs://10.0.0.2:8020', sparkHdfsDir('3f2a9c'), ['pyspark.zip', 'py4j-0.10.9.9-src.zip'])

  it('names the jars\' archive and PySpark\'s in HDFS, one folder per Spark runtime', () => {
    expect(onHdfs).toEqual({
      archive: 'hdfs://10.0.0.2:8020/cms/spark/3f2a9c/spark-jars.tar',
      pyArchives: ['hdfs://10.0.0.2:8020/cms/spark/3f2a9c/pyspark.zip', 'hdfs://10.0.0.2:8020/cms/spark/3f2a9c/py4j-0.10.9.9-src.zip'],
    })
    expect(() => sparkHdfsDir('../x')).toThrow('not a Spark runtime id')
    expect(parsePublish('pyzip pyspark.zip\npyzip py4j-0.10.9.9-src.zip\npublished\n')).toEqual({pyZips: ['pyspark.zip', 'py4j-0.10.9.9-src.zip'], published: true})
    expect(parsePublish('pyzip pyspark.zip\n')).toEqual({pyZips: ['pyspark.zip'], published: false})
    const publish = {sparkHome: '/opt/spark', namenodeHttp: '10.0.0.2:9870', user: 'root', dir: '/cms/spark/3f2a9c', workDir: '/tmp'}
    expect(publishSparkScript({...publish, replication: 2})).toContain('op=SETREPLICATION&replication=2&')
    expect(() => publishSparkScript({...publish, replication: 0})).toThrow('not a replication factor')
  })

  it('takes Spark\'s jars from HDFS and returns once YARN accepted the app', () => {
    const d = sparkDefaultsForYarn(onHdfs)
    expect(d).toContain('spark.yarn.archive hdfs://10.0.0.2:8020/cms/spark/3f2a9c/spark-jars.tar\n')
    expect(d).not.toContain('spark.yarn.jars')
    expect(d).toContain('spark.submit.deployMode cluster')
    expect(d).toContain('spark.yarn.submit.waitAppCompletion false')
    const tunnel = sparkDefaultsForTunnel({spark: onHdfs, clusterConfDir: '/home/u/.cms/clusters/c1/hadoop-conf', defaultFs: 'hdfs://10.0.0.2:8020'})
    expect(tunnel).toContain('spark.hadoop.fs.defaultFS hdfs://10.0.0.2:8020\n')
    expect(tunnel).toContain('spark.yarn.archive hdfs://10.0.0.2:8020/cms/spark/3f2a9c/spark-jars.tar\n')
    expect(tunnel).toContain('spark.driver.extraClassPath /home/u/.cms/clusters/c1/hadoop-conf\n')
    expect(tunnel).toContain('spark.executor.extraClassPath /home/u/.cms/clusters/c1/hadoop-conf\n')
    // A stock spark-submit on the user's machine waits for its application, as it does anywhere.
    expect(tunnel).not.toContain('waitAppCompletion')
    expect(() => sparkDefaultsForTunnel({spark: {archive: 'hdfs://h:8020/my spark.tar', pyArchives: []}, clusterConfDir: '/c', defaultFs: 'hdfs://h:8020'})).toThrow('cannot be written in spark-defaults.conf')
    const env = sparkEnvForYarn(hadoopLayout('/home/u', 'c1'), '/opt/spark', onHdfs)
    expect(env).toContain('export HADOOP_CONF_DIR=/home/u/.cms/clusters/c1/hadoop-conf')
    expect(env).toContain('export SPARK_CONF_DIR=/home/u/.cms/clusters/c1/spark-conf')
    expect(env).toContain('export PYSPARK_ARCHIVES_PATH=hdfs://10.0.0.2:8020/cms/spark/3f2a9c/pyspark.zip,hdfs://10.0.0.2:8020/cms/spark/3f2a9c/py4j-0.10.9.9-src.zip\n')
  })
})

describe('removing DataNodes', () => {
  const hosts = [host('h1', 'head', '10.0.0.2'), host('h2', 'worker', '10.0.0.3'), host('h3', 'worker', '10.0.0.4')]

  it('refuses a removal that would leave fewer DataNodes than the replication factor (decommissioning would never finish)', () => {
    expect(() => checkDataNodesLeft(hosts, [hosts[2]!], 2, true)).not.toThrow()
    expect(() => checkDataNodesLeft(hosts, [hosts[1]!, hosts[2]!], 2, true)).toThrow("removing h2, h3 would leave 1 DataNode, fewer than HDFS's replication factor 2")
    // A head that runs no DataNode does not count.
    expect(() => checkDataNodesLeft(hosts, [hosts[2]!], 2, false)).toThrow('would leave 1 DataNode')
    expect(() => checkDataNodesLeft(hosts, [hosts[2]!], 3, true)).toThrow('would leave 2 DataNodes')
  })
})
