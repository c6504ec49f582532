import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Artifact} from '../../../src/engines/artifact.js'
import {Deferred} from '../../../src/engines/coordination.js'
import type {HostContext} from '../../../src/engines/host-context.js'
import {Shipment} from '../../../src/engines/shipping.js'

const artifact = (what: string, id: string): Artifact => ({what, id, path: `/local/${id}.tgz`, bytes: 100, archiveExt: '.tgz', flag: `--${id}-dist`, probe: 'bin/x'})
const hadoop = artifact('Hadoop', 'h1')
const spark = artifact('Spark', 's1')

/** A host whose SSH session answers as a fresh host would; the head's upload of an archive may be held back. */
function fakeHost(name: string, log: string[], gates: Map<string, Deferred<void>> = new Map()): HostContext {
  const session = {
    async run(_script: string, opts: {label: string}) {
      log.push(`${name}: ${opts.label}`)
      if (opts.label.startsWith('check ')) return 'unpacked=0 archive=0'
      if (opts.label === 'start distribution server') return 'pid=42 port=8000'
      return ''
    },
    async upload(localPath: string) {
      log.push(`${name}: upload ${localPath}`)
      await gates.get(localPath)?.promise
      return 100
    },
    async exec() {
      return ''
    },
  }
  return {host: {id: name} as HostContext['host'], session: session as unknown as HostContext['session'], facts: {home: '/root', curl: true, python3: true} as HostContext['facts'], address: `10.0.0.${name.length}`}
}

describe('Shipment', () => {
  it('lets a host fetch an archive as soon as the head holds it, while the head still receives the next one', async () => {
    const log: string[] = []
    const sparkUpload = new Deferred<void>()
    const head = fakeHost('head', log, new Map([['/local/s1.tgz', sparkUpload]]))
    const worker = fakeHost('worker', log)
    const shipment = new Shipment([hadoop, spark], true)

    const headHadoop = await shipment.deliver(head, true, {update() {}}, [hadoop])
    const headSpark = shipment.deliver(head, true, {update() {}}, [spark])
    const workerHadoop = await shipment.deliver(worker, false, {update() {}}, [hadoop])
    expect(headHadoop).toEqual(['uploaded'])
    expect(workerHadoop).toEqual(['from-head'])
    expect(log).toContain('worker: fetch Hadoop from head')
    expect(log).not.toContain('worker: fetch Spark from head')

    const workerSpark = shipment.deliver(worker, false, {update() {}}, [spark])
    await new Promise((r) => setTimeout(r, 20))
    expect(log).not.toContain('worker: fetch Spark from head')
    sparkUpload.resolve()
    expect(await headSpark).toEqual(['uploaded'])
    expect(await workerSpark).toEqual(['from-head'])
    expect(log.filter((l) => l === 'head: start distribution server')).toHaveLength(1)
  })

  it('takes in one more archive once the head was asked (once), and the other hosts fetch it from the head', async () => {
    const log: string[] = []
    const head = fakeHost('head', log)
    const worker = fakeHost('worker', log)
    const shipment = new Shipment([hadoop], true)
    const classData = artifact('Hadoop class data', 'c1')
    shipment.include(classData)
    shipment.include(classData)
    expect(shipment.artifacts.map((a) => a.id)).toEqual(['h1', 'c1'])
    expect(shipment.totalBytes).toBe(200)
    expect(await shipment.deliver(head, true, {update() {}}, [classData])).toEqual(['uploaded'])
    expect(await shipment.deliver(worker, false, {update() {}}, [classData])).toEqual(['from-head'])
    expect(log).toContain('worker: fetch Hadoop class data from head')
  })

  it('streams an archive only the head needs into its unpack (no separate upload, no copy kept, nothing for the others)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-ship-'))
    try {
      const path = join(dir, 's2.tgz')
      writeFileSync(path, Buffer.alloc(300_000, 7))
      const headOnly: Artifact = {...artifact('Spark', 's2'), path, bytes: 300_000, headOnly: true}
      const log: string[] = []
      const head = fakeHost('head', log)
      let streamed = 0
      const run = head.session.run.bind(head.session)
      head.session.run = (async (script: string, opts: {label: string; stdin?: NodeJS.ReadableStream}) => {
        // The channel opens a moment after the call: nothing may be lost before it reads.
        await new Promise((r) => setTimeout(r, 30))
        if (opts.stdin) for await (const chunk of opts.stdin) streamed += (chunk as Buffer).length
        return run(script, opts as never)
      }) as never
      const updates: string[] = []
      const shipment = new Shipment([hadoop, headOnly], true)
      expect(await shipment.deliver(head, true, {update: (s: string) => updates.push(s)}, [headOnly])).toEqual(['uploaded'])
      expect(log).toEqual(['head: check Spark', 'head: upload and unpack Spark'])
      expect(streamed).toBe(300_000)
      expect(updates.at(-1)).toBe('uploading and unpacking Spark 100%')
      expect(shipment.uploadedBytes).toBe(300_000)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('leaves an archive only the head needs alone once it is unpacked there, when hosts join (add, a rerun of create)', async () => {
    const log: string[] = []
    const head = fakeHost('head', log)
    const run = head.session.run.bind(head.session)
    head.session.run = (async (script: string, opts: {label: string}) => (opts.label.startsWith('check ') ? (log.push(`head: ${opts.label}`), 'unpacked=1 archive=0') : run(script, opts as never))) as never
    // `cms cluster add` knows the Spark runtime by its id only: it has no local archive to upload.
    const headOnly: Artifact = {...artifact('Spark', 's3'), path: undefined, headOnly: true}
    const shipment = new Shipment([hadoop, headOnly], true)
    expect(await shipment.deliver(head, true, {update() {}}, [headOnly])).toEqual(['present'])
    expect(log).toEqual(['head: check Spark'])
    expect(shipment.uploadedBytes).toBe(0)
  })

  it('fails the hosts waiting for an archive the head could not receive', async () => {
    const head = fakeHost('head', [])
    head.session.upload = async () => {
      throw new Error('disk full')
    }
    const shipment = new Shipment([spark], true)
    const waiting = shipment.deliver(fakeHost('worker', []), false, {update() {}})
    await expect(shipment.deliver(head, true, {update() {}})).rejects.toThrow('disk full')
    await expect(waiting).rejects.toThrow('the head could not keep the Spark archive: disk full')
  })

  it('fails the waiting hosts with the reason when the head fails before it holds the archives', async () => {
    const shipment = new Shipment([hadoop, spark], true)
    const waiting = shipment.deliver(fakeHost('worker', []), false, {update() {}}, [spark])
    shipment.headFailed(new Error('the head h-0 failed: no java'))
    await expect(waiting).rejects.toThrow('no java')
  })
})
