import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {publishSparkScript} from '../../../src/engines/hadoop/spark-archive.js'

/**
 * The publish script run with sh, curl and tar against a WebHDFS stand-in on loopback (a NameNode answering
 * GETFILESTATUS, CREATE with noredirect, RENAME and SETREPLICATION, and a DataNode taking the data): what lands
 * under which name, and that a tar that fails leaves only a partial file, never renamed into place.
 */
interface Fake {
  files: Map<string, Buffer>
  replication: Map<string, number>
  chunked: Set<string>
}

function fakeWebHdfs(fake: Fake): Server {
  return createServer((req, res) => {
    const url = new URL(req.url!, 'http://x')
    const op = url.searchParams.get('op')
    const path = decodeURIComponent(url.pathname.replace(/^\/(webhdfs\/v1|data)/, ''))
    const json = (status: number, body: unknown) => res.writeHead(status, {'content-type': 'application/json'}).end(JSON.stringify(body))
    if (op === 'GETFILESTATUS') return fake.files.has(path) ? json(200, {FileStatus: {length: fake.files.get(path)!.length}}) : json(404, {})
    if (op === 'CREATE' && url.pathname.startsWith('/webhdfs')) return json(200, {Location: `http://127.0.0.1:${(req.socket.localPort)}/data${path}?op=CREATE`})
    if (op === 'CREATE') {
      if (req.headers['transfer-encoding'] === 'chunked') fake.chunked.add(path)
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        fake.files.set(path, Buffer.concat(chunks))
        res.writeHead(201).end()
      })
      return
    }
    if (op === 'RENAME') {
      const to = url.searchParams.get('destination')!
      fake.files.set(to, fake.files.get(path)!)
      fake.files.delete(path)
      return json(200, {boolean: true})
    }
    if (op === 'SETREPLICATION') {
      fake.replication.set(path, Number(url.searchParams.get('replication')))
      return json(200, {boolean: true})
    }
    json(400, {})
  })
}

function sh(script: string): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], {timeout: 30_000}, (error, stdout, stderr) => resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, stdout, stderr}))
  })
}

describe('publishSparkScript against a WebHDFS stand-in', () => {
  let server: Server
  let port = 0
  const fake: Fake = {files: new Map(), replication: new Map(), chunked: new Set()}
  const work = mkdtempSync(join(tmpdir(), 'cms-publish-'))
  const sparkHome = join(work, 'spark')

  beforeAll(async () => {
    mkdirSync(join(sparkHome, 'jars'), {recursive: true})
    mkdirSync(join(sparkHome, 'python', 'lib'), {recursive: true})
    writeFileSync(join(sparkHome, 'jars', 'a.jar'), Buffer.alloc(300_000, 7))
    writeFileSync(join(sparkHome, 'jars', 'b.jar'), 'b')
    writeFileSync(join(sparkHome, 'python', 'lib', 'pyspark.zip'), 'zip')
    server = fakeWebHdfs(fake)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    port = (server.address() as {port: number}).port
  })

  afterAll(async () => {
    await new Promise((r) => server.close(r))
    rmSync(work, {recursive: true, force: true})
  })

  const script = (home: string) => publishSparkScript({sparkHome: home, namenodeHttp: `127.0.0.1:${port}`, user: 'root', dir: '/cms/spark/x', workDir: work, replication: 3})

  it('streams the jars as one tar (chunked, no file on the head), puts the zips beside it, each renamed into place and given the replication', async () => {
    const r = await sh(script(sparkHome))
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['pyzip pyspark.zip', 'published'])
    expect([...fake.files.keys()].sort()).toEqual(['/cms/spark/x/pyspark.zip', '/cms/spark/x/spark-jars.tar'])
    expect(fake.chunked.has('/cms/spark/x/spark-jars.tar.part')).toBe(true)
    writeFileSync(join(work, 'got.tar'), fake.files.get('/cms/spark/x/spark-jars.tar')!)
    expect((await sh(`tar -tf ${join(work, 'got.tar')} | sort`)).stdout.split('\n').filter(Boolean)).toEqual(['./', './a.jar', './b.jar'])
    expect(fake.replication.get('/cms/spark/x/spark-jars.tar')).toBe(3)
    // A second run finds both and writes nothing.
    const again = await sh(script(sparkHome))
    expect(again.stdout.split('\n').filter(Boolean)).toEqual(['pyzip pyspark.zip'])
  })

  it('a tar that fails (no jars folder) exits 1 naming it, and nothing is renamed into place', async () => {
    fake.files.clear()
    const broken = join(work, 'broken')
    mkdirSync(join(broken, 'python', 'lib'), {recursive: true})
    const r = await sh(script(broken))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("could not read Spark's jars on the head")
    expect(fake.files.has('/cms/spark/x/spark-jars.tar')).toBe(false)
  })
})
