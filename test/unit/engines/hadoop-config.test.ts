import {describe, expect, it} from 'vitest'
import {javaOpens} from '../../../src/engines/hadoop/java-options.js'
import {
  HADOOP_PORTS,
  type HadoopSiteInput,
  excludeFiles,
  nodeManagerResources,
  renderCapacityScheduler,
  renderCoreSite,
  renderHadoopConf,
  renderHdfsSite,
  renderLog4j,
  renderMapredSite,
  renderYarnSite,
  replicationFor,
} from '../../../src/engines/hadoop/site-config.js'
import {renderConfiguration, renderProperty, xmlEscape} from '../../../src/engines/hadoop/xml.js'

const HEAD = '10.1.0.2'
const WORKER = '10.1.0.7'
const CONF = '/home/u/.cms/clusters/c1/hadoop/conf'

const input = (over: Partial<HadoopSiteInput> = {}): HadoopSiteInput => ({
  cluster: 'c1',
  headAddress: HEAD,
  privateAddress: WORKER,
  hadoopHome: '/home/u/.cms/dist/abc/hadoop-3.4.3',
  dirs: {
    tmp: '/home/u/.cms/clusters/c1/hadoop/tmp',
    name: '/home/u/.cms/clusters/c1/hadoop/name',
    data: ['/home/u/.cms/clusters/c1/hadoop/data'],
    nmLocal: ['/home/u/.cms/clusters/c1/hadoop/nm-local'],
    nmLog: '/home/u/.cms/clusters/c1/hadoop/nm-logs',
    conf: CONF,
  },
  hostMemoryMb: 8192,
  hostCores: 4,
  isHead: false,
  datanodes: 3,
  ...over,
})

const headInput = (over: Partial<HadoopSiteInput> = {}): HadoopSiteInput => input({privateAddress: HEAD, isHead: true, ...over})

/** name -> value of a configuration file as cms writes it (one property a line), unescaped; fails on anything else. */
function properties(xml: string): Map<string, string> {
  const lines = xml.trimEnd().split('\n')
  expect(lines.slice(0, 3)).toEqual(['<?xml version="1.0" encoding="UTF-8"?>', '<!-- Written by cms: edits are replaced on the next converge. -->', '<configuration>'])
  expect(lines.at(-1)).toBe('</configuration>')
  const out = new Map<string, string>()
  for (const line of lines.slice(3, -1)) {
    const m = /^ {2}<property><name>([^<]+)<\/name><value>([^<]*)<\/value>(?:<final>true<\/final>)?<\/property>$/.exec(line)
    expect(m, line).not.toBeNull()
    const unescaped = m![2].replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({lt: '<', gt: '>', quot: '"', apos: "'", amp: '&'})[e]!)
    out.set(m![1], unescaped)
  }
  return out
}

const ADDRESS_PROPERTY = /(address|bind-host|hostname)$/

/** Every address-like property names `own` when it starts with ownPrefix, else the head; there are at least `count`. */
function expectAddresses(p: Map<string, string>, ownPrefix: string, own: string, count: number): void {
  const addresses = [...p].filter(([k]) => ADDRESS_PROPERTY.test(k))
  expect(addresses.length).toBeGreaterThanOrEqual(count)
  for (const [k, v] of addresses) {
    const host = k.startsWith(ownPrefix) ? own : HEAD
    expect([host, `${host}:${v.split(':').at(-1)}`], k).toContain(v)
  }
}

/** The properties named in `want` have exactly those values. */
function expectProperties(p: Map<string, string>, want: Record<string, string>): void {
  expect(Object.fromEntries(Object.keys(want).map((k) => [k, p.get(k)]))).toEqual(want)
}

describe('xmlEscape and the property renderer', () => {
  it('escapes the five XML specials', () => {
    expect(xmlEscape(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f')
    expect(xmlEscape('plain /path,x:1')).toBe('plain /path,x:1')
  })

  it('keeps tab and newline, refuses characters XML 1.0 forbids', () => {
    expect(xmlEscape('a\tb\nc')).toBe('a\tb\nc')
    expect(() => xmlEscape('a\u0000b')).toThrow(/control characters/)
    expect(() => xmlEscape('a\u001bb')).toThrow(/control characters/)
  })

  it('writes one escaped property a line; a value cannot close its element or inject another property', () => {
    const evil = '</value></property><property><name>dfs.permissions.enabled</name><value>false'
    const line = renderProperty(['x.y', evil])
    expect(line).toBe(`  <property><name>x.y</name><value>${xmlEscape(evil)}</value></property>`)
    expect(properties(renderConfiguration([['x.y', evil]]))).toEqual(new Map([['x.y', evil]]))
  })

  it('writes numbers and booleans as Hadoop reads them', () => {
    expect(renderProperty(['a.b', 3])).toContain('<value>3</value>')
    expect(renderProperty(['a.b', false])).toContain('<value>false</value>')
    expect(renderProperty(['a.b', 0.5])).toContain('<value>0.5</value>')
    expect(() => renderProperty(['a.b', Number.NaN])).toThrow(/not a number/)
  })

  it('refuses ${ (Hadoop would expand it), bad names and a property set twice', () => {
    expect(() => renderProperty(['a.b', '/data/${user.name}'])).toThrow(/expand/)
    expect(() => renderProperty(['a b', 'x'])).toThrow(/property name/)
    expect(() => renderProperty(['<a>', 'x'])).toThrow(/property name/)
    expect(() => renderConfiguration([['a.b', 1], ['a.b', 2]])).toThrow(/set twice/)
  })
})

describe('core-site.xml', () => {
  it('names the NameNode on the head and the tmp dir, nothing else', () => {
    expect(properties(renderCoreSite(input()))).toEqual(
      new Map([
        ['fs.defaultFS', `hdfs://${HEAD}:8020`],
        ['hadoop.rpc.socket.factory.class.default', 'org.apache.hadoop.net.StandardSocketFactory'],
        ['hadoop.tmp.dir', '/home/u/.cms/clusters/c1/hadoop/tmp'],
      ]),
    )
  })

  it('makes the default file system and plain sockets final: a configuration a client ships with its application cannot change them', () => {
    const xml = renderCoreSite(input())
    expect(xml).toContain(`<property><name>fs.defaultFS</name><value>hdfs://${HEAD}:8020</value><final>true</final></property>`)
    expect(xml).toContain('<property><name>hadoop.rpc.socket.factory.class.default</name><value>org.apache.hadoop.net.StandardSocketFactory</value><final>true</final></property>')
    expect(xml).toContain('<property><name>hadoop.tmp.dir</name><value>/home/u/.cms/clusters/c1/hadoop/tmp</value></property>')
  })

  it('brackets an IPv6 head address', () => {
    const p = properties(renderCoreSite(input({headAddress: 'fd00::2', privateAddress: 'fd00::7'})))
    expect(p.get('fs.defaultFS')).toBe('hdfs://[fd00::2]:8020')
  })
})

describe('hdfs-site.xml', () => {
  it('has the storage folders, the replication, the exclude file and no hostname check', () => {
    const p = properties(renderHdfsSite(input({dirs: {...input().dirs, data: ['/d1/hdfs', '/d2/hdfs']}})))
    expect(p.get('dfs.namenode.name.dir')).toBe('file:///home/u/.cms/clusters/c1/hadoop/name')
    expect(p.get('dfs.datanode.data.dir')).toBe('file:///d1/hdfs,file:///d2/hdfs')
    expect(p.get('dfs.replication')).toBe('3')
    expect(p.get('dfs.namenode.datanode.registration.ip-hostname-check')).toBe('false')
    expect(p.get('dfs.hosts.exclude')).toBe(`${CONF}/dfs.exclude`)
    expect(excludeFiles(CONF).hdfs).toBe(`${CONF}/dfs.exclude`)
  })

  it('binds the NameNode to the head and this host\'s DataNode to its own address, never 0.0.0.0', () => {
    const xml = renderHdfsSite(input())
    expect(xml).not.toContain('0.0.0.0')
    const p = properties(xml)
    expectProperties(p, {
      'dfs.namenode.rpc-address': `${HEAD}:8020`,
      'dfs.namenode.http-address': `${HEAD}:9870`,
      'dfs.datanode.hostname': WORKER,
      'dfs.datanode.address': `${WORKER}:9866`,
      'dfs.datanode.http.address': `${WORKER}:9864`,
      'dfs.datanode.https.address': `${WORKER}:9865`,
      'dfs.datanode.ipc.address': `${WORKER}:9867`,
    })
    for (const k of ['rpc', 'servicerpc', 'lifeline.rpc', 'http', 'https']) expect(p.get(`dfs.namenode.${k}-bind-host`)).toBe(HEAD)
    expectAddresses(p, 'dfs.datanode.', WORKER, 14)
  })
})

describe('replication', () => {
  it('is three copies, or one per DataNode when there are fewer', () => {
    expect([1, 2, 3, 4, 10].map(replicationFor)).toEqual([1, 2, 3, 3, 3])
    expect(() => replicationFor(0)).toThrow(/at least one DataNode/)
    expect(properties(renderHdfsSite(input({datanodes: 2}))).get('dfs.replication')).toBe('2')
    expect(properties(renderHdfsSite(input({datanodes: 7}))).get('dfs.replication')).toBe('3')
  })
})

describe('yarn-site.xml', () => {
  it('puts the ResourceManager on the head and binds this host\'s NodeManager to its own address, never 0.0.0.0', () => {
    const xml = renderYarnSite(input())
    expect(xml).not.toContain('0.0.0.0')
    const p = properties(xml)
    expectProperties(p, {
      'yarn.resourcemanager.hostname': HEAD,
      'yarn.resourcemanager.bind-host': HEAD,
      'yarn.resourcemanager.address': `${HEAD}:8032`,
      'yarn.resourcemanager.scheduler.address': `${HEAD}:8030`,
      'yarn.resourcemanager.resource-tracker.address': `${HEAD}:8031`,
      'yarn.resourcemanager.admin.address': `${HEAD}:8033`,
      'yarn.resourcemanager.webapp.address': `${HEAD}:8088`,
      'yarn.nodemanager.hostname': WORKER,
      'yarn.nodemanager.bind-host': WORKER,
      'yarn.nodemanager.address': `${WORKER}:8041`,
      'yarn.nodemanager.localizer.address': `${WORKER}:8040`,
      'yarn.nodemanager.webapp.address': `${WORKER}:8042`,
    })
    expectAddresses(p, 'yarn.nodemanager.', WORKER, 14)
  })

  it('offers the NodeManager the host less its daemons, runs the shuffle, aggregates logs, skips the vmem check', () => {
    const p = properties(renderYarnSite(input()))
    expectProperties(p, {
      'yarn.nodemanager.resource.memory-mb': String(8192 - 1024),
      'yarn.nodemanager.resource.cpu-vcores': '4',
      'yarn.nodemanager.aux-services': 'mapreduce_shuffle',
      'yarn.nodemanager.aux-services.mapreduce_shuffle.class': 'org.apache.hadoop.mapred.ShuffleHandler',
      'yarn.nodemanager.vmem-check-enabled': 'false',
      'yarn.log-aggregation-enable': 'true',
      'yarn.nodemanager.remote-app-log-dir': '/tmp/logs',
      'yarn.resourcemanager.nodes.exclude-path': `${CONF}/yarn.exclude`,
      'yarn.resourcemanager.cluster-id': 'c1',
      'yarn.nodemanager.local-dirs': '/home/u/.cms/clusters/c1/hadoop/nm-local',
      'yarn.application.classpath': '$HADOOP_CONF_DIR,$HADOOP_HOME/share/hadoop/hdfs,$HADOOP_HOME/share/hadoop/lib/*',
    })
    expect(p.get('yarn.nodemanager.env-whitelist')).toContain('HADOOP_MAPRED_HOME')
    // The head keeps memory for the NameNode and the ResourceManager too.
    expect(properties(renderYarnSite(headInput())).get('yarn.nodemanager.resource.memory-mb')).toBe(String(8192 - 2048))
  })

  it('never offers less than 512 MB, in 128 MB steps', () => {
    expect(nodeManagerResources(1000, 1, true)).toEqual({memoryMb: 512, vcores: 1})
    expect(nodeManagerResources(3000, 2, false)).toEqual({memoryMb: 1920, vcores: 2})
    expect(() => nodeManagerResources(0, 2, false)).toThrow(/memory/)
    expect(() => nodeManagerResources(2048, 0, false)).toThrow(/cores/)
  })
})

describe('mapred-site.xml', () => {
  it('runs MapReduce on YARN with the runtime as HADOOP_MAPRED_HOME', () => {
    const p = properties(renderMapredSite(input()))
    expect(p.get('mapreduce.framework.name')).toBe('yarn')
    for (const k of ['yarn.app.mapreduce.am.env', 'mapreduce.map.env', 'mapreduce.reduce.env']) {
      expect(p.get(k)).toBe('HADOOP_MAPRED_HOME=/home/u/.cms/dist/abc/hadoop-3.4.3')
    }
    expect(p.get('mapreduce.application.classpath')).toBe('$HADOOP_MAPRED_HOME/share/hadoop/lib/*')
    expect(p.get('mapreduce.jobhistory.address')).toBe(`${HEAD}:10020`)
  })
})

describe('capacity-scheduler.xml and log4j.properties', () => {
  it('has one default queue with the whole cluster and an ApplicationMaster share', () => {
    expectProperties(properties(renderCapacityScheduler()), {
      'yarn.scheduler.capacity.root.queues': 'default',
      'yarn.scheduler.capacity.root.default.capacity': '100',
      'yarn.scheduler.capacity.root.default.maximum-capacity': '100',
      'yarn.scheduler.capacity.maximum-am-resource-percent': '0.5',
      'yarn.scheduler.capacity.root.default.state': 'RUNNING',
    })
  })

  it('logs to stderr with audit logs off', () => {
    const text = renderLog4j()
    expect(text).toContain('log4j.rootLogger=${hadoop.root.logger}\n')
    expect(text).toContain('hadoop.root.logger=INFO,console\n')
    expect(text).toContain('log4j.appender.console.target=System.err\n')
    expect(text).toContain('log4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=${hdfs.audit.logger}\n')
    expect(text).toContain('hdfs.audit.logger=INFO,NullAppender\n')
  })
})

describe('renderHadoopConf', () => {
  it('writes every file of HADOOP_CONF_DIR', () => {
    expect(Object.keys(renderHadoopConf(headInput())).sort()).toEqual(
      ['capacity-scheduler.xml', 'core-site.xml', 'hdfs-site.xml', 'log4j.properties', 'mapred-site.xml', 'yarn-site.xml'],
    )
  })

  it('uses other ports when given', () => {
    const p = properties(renderCoreSite(input({ports: {...HADOOP_PORTS, namenodeRpc: 9000}})))
    expect(p.get('fs.defaultFS')).toBe(`hdfs://${HEAD}:9000`)
  })

  it('refuses wildcard or non-IP addresses, relative or comma-holding paths, and a bad cluster name', () => {
    expect(() => renderYarnSite(input({privateAddress: '0.0.0.0'}))).toThrow(/wildcard/)
    expect(() => renderYarnSite(input({headAddress: 'head.local'}))).toThrow(/IP address/)
    expect(() => renderHdfsSite(input({dirs: {...input().dirs, data: ['rel/dir']}}))).toThrow(/absolute/)
    expect(() => renderHdfsSite(input({dirs: {...input().dirs, data: ['/a,/b']}}))).toThrow(/commas/)
    expect(() => renderHdfsSite(input({dirs: {...input().dirs, nmLocal: []}}))).toThrow(/at least one/)
    expect(() => renderCoreSite(input({cluster: 'a b'}))).toThrow(/cluster name/)
    expect(() => renderCoreSite(input({isHead: true}))).toThrow(/head/)
    expect(() => renderCoreSite(input({ports: {...HADOOP_PORTS, rmHttp: 70000}}))).toThrow(/rmHttp/)
  })
})

describe('javaOpens', () => {
  it('opens Hadoop\'s java.base packages to the classpath, sun.nio.ch among them', () => {
    const opens = javaOpens()
    expect(opens).toHaveLength(12)
    for (const o of opens) expect(o).toMatch(/^--add-opens=java\.base\/[a-z0-9.]+=ALL-UNNAMED$/)
    for (const p of ['java.lang', 'java.util', 'java.util.concurrent', 'java.net', 'java.io', 'java.lang.reflect', 'sun.nio.ch', 'java.math', 'java.text', 'java.util.zip', 'sun.security.util', 'sun.security.x509']) {
      expect(opens).toContain(`--add-opens=java.base/${p}=ALL-UNNAMED`)
    }
  })
})

describe('the tunnel client configuration', () => {
  it('names the cluster by its private addresses and sends every connection through the proxy', async () => {
    const {clientConf} = await import('../../../src/engines/hadoop/site-config.js')
    const files = clientConf({headAddress: '10.1.0.2', socks: '127.0.0.1:41000', replication: 2})
    expect(files['core-site.xml']).toContain('<name>fs.defaultFS</name><value>webhdfs://10.1.0.2:9870</value>')
    expect(files['core-site.xml']).toContain('<name>hadoop.socks.server</name><value>127.0.0.1:41000</value>')
    expect(files['core-site.xml']).toContain('<value>org.apache.hadoop.net.SocksSocketFactory</value>')
    expect(files['hdfs-site.xml']).toContain('<name>dfs.replication</name><value>2</value>')
    expect(files['yarn-site.xml']).toContain('<name>yarn.resourcemanager.address</name><value>10.1.0.2:8032</value>')
  })
})
