import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {buildHadoopImage, defaultHadoopImageTag, hadoopImageDir} from '../../src/images/hadoop-image.js'
import {fakeDocker} from './fake-docker.js'

const ENTRYPOINT = join(hadoopImageDir(), 'entrypoint.sh')

describe('the Hadoop image entrypoint renders the configuration from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-hadoop-entrypoint-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const home = join(dir, 'home')
  mkdirSync(join(home, 'etc', 'hadoop'), {recursive: true})
  writeFileSync(join(home, 'etc', 'hadoop', 'capacity-scheduler.xml'), '<configuration/>\n')

  /** Runs `entrypoint.sh config` with only these variables (and PATH); the rendered files by name. */
  const render = (env: Record<string, string>) => {
    const conf = mkdtempSync(join(dir, 'conf-'))
    const r = spawnSync('bash', [ENTRYPOINT, 'config'], {env: {PATH: process.env.PATH!, HOSTNAME: 'nn-0', HADOOP_HOME: home, HADOOP_CONF_DIR: conf, ...env}, encoding: 'utf8'})
    const read = (f: string) => readFileSync(join(conf, f), 'utf8')
    return {code: r.status, stderr: r.stderr, read}
  }
  const prop = (xml: string, name: string) => new RegExp(`<property><name>${name.replace(/\./g, '\\.')}</name><value>([^<]*)</value></property>`).exec(xml)?.[1]

  it('points every role at the NameNode and ResourceManager, binds every interface, keeps data under HADOOP_DATA_DIR', () => {
    const {code, stderr, read} = render({HADOOP_NAMENODE: 'hdfs-namenode-0.hdfs-namenode.cms-hdfs.svc.cluster.local', HDFS_REPLICATION: '2', HADOOP_DATA_DIR: '/data'})
    expect(code, stderr).toBe(0)
    const core = read('core-site.xml')
    const hdfs = read('hdfs-site.xml')
    const yarn = read('yarn-site.xml')
    expect(core).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/)
    expect(prop(core, 'fs.defaultFS')).toBe('hdfs://hdfs-namenode-0.hdfs-namenode.cms-hdfs.svc.cluster.local:8020')
    expect(prop(hdfs, 'dfs.replication')).toBe('2')
    expect(prop(hdfs, 'dfs.namenode.name.dir')).toBe('file:///data/name')
    expect(prop(hdfs, 'dfs.datanode.data.dir')).toBe('file:///data/data')
    expect(prop(hdfs, 'dfs.namenode.rpc-bind-host')).toBe('0.0.0.0')
    expect(prop(hdfs, 'dfs.namenode.datanode.registration.ip-hostname-check')).toBe('false')
    expect(prop(hdfs, 'dfs.hosts.exclude')).toBe('/data/dfs.exclude')
    // The ResourceManager is the NameNode's host unless named.
    expect(prop(yarn, 'yarn.resourcemanager.hostname')).toBe('hdfs-namenode-0.hdfs-namenode.cms-hdfs.svc.cluster.local')
    expect(prop(yarn, 'yarn.nodemanager.local-dirs')).toBe('/data/nm-local')
    expect(prop(read('mapred-site.xml'), 'mapreduce.framework.name')).toBe('yarn')
    expect(read('capacity-scheduler.xml')).toBe('<configuration/>\n')
  })

  it('defaults: this host is the NameNode, one copy of each block, data in /hadoop; an IPv6 address goes in brackets', () => {
    const plain = render({})
    expect(plain.code, plain.stderr).toBe(0)
    expect(prop(plain.read('core-site.xml'), 'fs.defaultFS')).toBe('hdfs://nn-0:8020')
    expect(prop(plain.read('hdfs-site.xml'), 'dfs.replication')).toBe('1')
    expect(prop(plain.read('core-site.xml'), 'hadoop.tmp.dir')).toBe('/hadoop/tmp')
    const v6 = render({HADOOP_NAMENODE: 'fd00::5', HADOOP_RESOURCEMANAGER: 'rm'})
    expect(prop(v6.read('hdfs-site.xml'), 'dfs.namenode.http-address')).toBe('[fd00::5]:9870')
    expect(prop(v6.read('yarn-site.xml'), 'yarn.resourcemanager.hostname')).toBe('rm')
  })

  it('adds and overrides settings from *_SITE lines, XML-escaped; a name given again keeps its place', () => {
    const {code, stderr, read} = render({
      HDFS_SITE: ['dfs.replication=3', '# a comment', '', 'dfs.cms.note=a<b & "c">d', 'dfs.empty='].join('\n'),
      CORE_SITE: 'hadoop.proxyuser.x.hosts=*\r\n',
    })
    expect(code, stderr).toBe(0)
    const hdfs = read('hdfs-site.xml')
    expect(prop(hdfs, 'dfs.replication')).toBe('3')
    expect(hdfs.indexOf('dfs.replication')).toBeLessThan(hdfs.indexOf('dfs.namenode.rpc-address'))
    expect(hdfs.match(/dfs\.replication/g)).toHaveLength(1)
    expect(hdfs).toContain('<property><name>dfs.cms.note</name><value>a&lt;b &amp; &quot;c&quot;&gt;d</value></property>')
    expect(prop(hdfs, 'dfs.empty')).toBe('')
    expect(prop(read('core-site.xml'), 'hadoop.proxyuser.x.hosts')).toBe('*')
    // Well-formed XML (xmllint is not everywhere: python's parser is).
    execFileSync('python3', ['-c', 'import sys, xml.dom.minidom as m; m.parseString(sys.stdin.read())'], {input: hdfs})
  })

  it('refuses bad settings with exit 2 and one line', () => {
    for (const [env, message] of [
      [{HDFS_REPLICATION: '0'}, /HDFS_REPLICATION must be a positive number/],
      [{HADOOP_NAMENODE: 'nn; rm -rf /'}, /namenode must be a host name or an address/],
      [{HADOOP_DATA_DIR: 'relative'}, /paths must be absolute/],
      [{YARN_SITE: 'no equals sign'}, /yarn-site: expected NAME=VALUE/],
      [{CORE_SITE: 'bad name=1'}, /core-site: invalid property name 'bad name'/],
    ] as const) {
      const r = render(env)
      expect(r.code, JSON.stringify(env)).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(message)
    }
  })

  it('without a command prints its usage and exits 2', () => {
    const r = spawnSync('bash', [ENTRYPOINT], {env: {PATH: process.env.PATH!, HADOOP_HOME: home, HADOOP_CONF_DIR: join(dir, 'c')}, encoding: 'utf8'})
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^usage: namenode \| datanode/)
  })
})

describe('buildHadoopImage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-hadoop-image-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const dist = join(dir, 'hadoop-9.8.7-cms.tgz')
  writeFileSync(dist, 'not really a runtime')

  it('streams Dockerfile, entrypoint and the runtime; tags by Hadoop version; builds once per inputs', async () => {
    const {docker, builds} = fakeDocker(dir)
    const first = await buildHadoopImage({distSource: dist, log: () => {}, docker})
    expect(first).toMatchObject({tag: 'cms/hadoop:9.8.7', built: true, hadoopVersion: '9.8.7'})
    expect(builds[0]!.entries).toEqual(['Dockerfile', 'entrypoint.sh', 'hadoop-dist.tgz'])
    expect(builds[0]!.opts).toMatchObject({t: 'cms/hadoop:9.8.7', labels: {'org.apache.hadoop.version': '9.8.7'}})
    expect(await buildHadoopImage({distSource: dist, log: () => {}, docker})).toMatchObject({built: false, id: first.id})
    writeFileSync(dist, 'another runtime')
    expect(await buildHadoopImage({distSource: dist, log: () => {}, docker})).toMatchObject({built: true})
    expect(builds).toHaveLength(2)
  })

  it('asks for --tag when the file name carries no version', async () => {
    const bare = join(dir, 'runtime.tgz')
    writeFileSync(bare, 'x')
    const {docker, builds} = fakeDocker(dir)
    await expect(buildHadoopImage({distSource: bare, log: () => {}, docker})).rejects.toThrow(/cannot tell the Hadoop version .*pass --tag/)
    expect(defaultHadoopImageTag('3.4.3')).toBe('cms/hadoop:3.4.3')
    expect(builds).toHaveLength(0)
  })
})
