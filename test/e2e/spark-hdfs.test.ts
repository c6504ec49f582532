import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, cms, labelledContainers, makeCmsHome, masterJson, removeClusterContainers} from './helpers.js'

// HDFS beside Spark standalone (create -e spark --hdfs): a job reads and writes hdfs:// paths there.
const NAME = 'e2e-spark-hdfs'

async function webhdfs(headIp: string, path: string, op: string): Promise<Response> {
  return fetch(`http://${headIp}:9870/webhdfs/v1${path}?op=${op}&user.name=root`, {signal: AbortSignal.timeout(15_000)})
}

describe.skipIf(!process.env.CMS_HADOOP_DIST)('spark --hdfs on docker hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  const work = mkdtempSync(join(tmpdir(), 'cms-e2e-spark-hdfs-'))
  let headIp = ''

  beforeAll(async () => {
    await removeClusterContainers(NAME)
  })

  afterAll(async () => {
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('create --hdfs: the master lists every worker and the NameNode every DataNode', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'spark', '--hdfs', '--hosts', '2', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const containers = await labelledContainers(NAME)
    headIp = containers.find((c) => c.role === 'head')!.ip
    const ips = containers.map((c) => c.ip).sort()
    const bean = ((await (await webhdfs(headIp, '/', 'GETFILESTATUS')).json()) as {FileStatus: {type: string}}).FileStatus
    expect(bean.type).toBe('DIRECTORY')
    const jmx = await fetch(`http://${headIp}:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, {signal: AbortSignal.timeout(15_000)})
    const info = ((await jmx.json()) as {beans: Array<{LiveNodes: string; Safemode: string}>}).beans[0]!
    expect(info.Safemode).toBe('')
    expect(Object.values(JSON.parse(info.LiveNodes) as Record<string, {xferaddr: string}>).map((d) => d.xferaddr.replace(/:\d+$/, '')).sort()).toEqual(ips)
    expect((await masterJson(headIp)).aliveworkers).toBe(2)
    const described = JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout)
    expect(described).toMatchObject({health: 'healthy', hdfs: {liveDataNodes: 2}})
  })

  it('a word count reads its input from HDFS and writes its result there', async () => {
    writeFileSync(join(work, 'input.txt'), 'to be or not to be\nthat is the question to be\n')
    expect((await cms(['cluster', 'put', '-n', NAME, join(work, 'input.txt'), '/wc/input.txt'], env)).code).toBe(0)
    const r = await cms(['cluster', 'submit', '-n', NAME, join(ROOT, 'test/e2e/fixtures/wordcount.py'), '--wait', '--', '/wc/input.txt', 'hdfs:///wc/out'], env)
    expect(r.code, r.stderr).toBe(0)
    const parts = ((await (await webhdfs(headIp, '/wc/out', 'LISTSTATUS')).json()) as {FileStatuses: {FileStatus: Array<{pathSuffix: string}>}}).FileStatuses.FileStatus
    expect(parts.map((p) => p.pathSuffix)).toContain('_SUCCESS')
    let text = ''
    for (const p of parts.filter((x) => x.pathSuffix.startsWith('part-'))) text += await (await webhdfs(headIp, `/wc/out/${p.pathSuffix}`, 'OPEN')).text()
    const counts = Object.fromEntries(text.trim().split('\n').map((l) => l.split('\t')))
    expect(counts).toMatchObject({to: '3', be: '3', or: '1', question: '1'})
  })

  it('refuses to remove a DataNode HDFS needs for its replication, and changes nothing', async () => {
    const worker = (await labelledContainers(NAME)).find((c) => c.role === 'worker')!
    const r = await cms(['cluster', 'remove', '-n', NAME, worker.name], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`removing ${worker.name} would leave 1 DataNode, fewer than HDFS's replication factor 2`)
    expect((await masterJson(headIp)).aliveworkers).toBe(2)
    expect(await labelledContainers(NAME)).toHaveLength(2)
  })

  it('kill leaves no container', async () => {
    expect((await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)).code).toBe(0)
    expect(await labelledContainers(NAME)).toHaveLength(0)
  })
})
