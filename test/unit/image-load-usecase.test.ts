import {beforeEach, describe, expect, it, vi} from 'vitest'
import type {Host} from '../../src/providers/provider.js'
import {UsageError} from '../../src/remote/errors.js'

const saved = vi.fn()
const handle = {
  name: 'c1',
  engine: {name: 'spark'} as Record<string, unknown>,
  provider: {observe: vi.fn()},
  pool: {get: vi.fn(), closeAll: vi.fn()},
}
vi.mock('../../src/cluster/context.js', () => ({openCluster: vi.fn(async () => handle)}))
vi.mock('../../src/images/image-archive.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/images/image-archive.js')>()),
  saveImageArchive: vi.fn(async (ref: string) => (saved(ref), {ref, id: 'sha256:' + 'a'.repeat(64), path: '/cache/x.tar', bytes: 42, saved: true})),
}))

const {loadImage} = await import('../../src/cluster/image-load.js')
const run = {log: () => {}, parallel: 4, connectTimeoutMs: 1000, quiet: true}
const host = (id: string, role: 'head' | 'worker', state = 'running'): Host => ({id, role, state, target: {host: id, port: 22, user: 'root'}, address: id}) as unknown as Host

describe('loadImage (use-case)', () => {
  beforeEach(() => {
    saved.mockClear()
    handle.pool.closeAll.mockClear()
    handle.engine = {name: 'spark'}
  })

  it('refuses an engine that runs no images, before saving anything (exit 2)', async () => {
    await expect(loadImage({name: 'c1', image: 'cms/spark:4.3.0'}, run)).rejects.toThrow(UsageError)
    await expect(loadImage({name: 'c1', image: 'cms/spark:4.3.0'}, run)).rejects.toThrow(/runs spark, which runs no container images/)
    expect(saved).not.toHaveBeenCalled()
    expect(handle.pool.closeAll).toHaveBeenCalled()
  })

  it('refuses an image named by id before opening the cluster', async () => {
    await expect(loadImage({name: 'c1', image: 'a'.repeat(12)}, run)).rejects.toThrow(/NAME:TAG/)
  })

  it('hands the engine the saved archive and the hosts, head first; refuses stopped hosts', async () => {
    const loadImageOn = vi.fn(async (input: {hosts: Host[]; image: unknown}) => ({
      outcomes: input.hosts.map((h) => ({host: h.id, ok: true, ms: 1000, value: {address: h.id, detail: 'already there'}})),
      uploadedBytes: 0,
    }))
    handle.engine = {name: 'kubernetes', loadImage: loadImageOn}
    handle.provider.observe.mockResolvedValueOnce([host('w1', 'worker'), host('h', 'head'), host('w2', 'worker')])
    const report = await loadImage({name: 'c1', image: 'cms/spark'}, run)
    expect(saved).toHaveBeenCalledWith('cms/spark:latest')
    const input = loadImageOn.mock.calls[0]![0] as {hosts: Host[]; image: unknown}
    expect(input.hosts.map((h) => h.id)).toEqual(['h', 'w1', 'w2'])
    expect(input.image).toEqual({ref: 'cms/spark:latest', id: 'sha256:' + 'a'.repeat(64), archive: '/cache/x.tar', bytes: 42})
    expect(report).toMatchObject({image: 'cms/spark:latest', cluster: 'c1', archiveBytes: 42, uploadedBytes: 0})
    expect(report.hosts).toEqual([
      {host: 'h', ok: true, seconds: 1, detail: 'already there', error: undefined},
      {host: 'w1', ok: true, seconds: 1, detail: 'already there', error: undefined},
      {host: 'w2', ok: true, seconds: 1, detail: 'already there', error: undefined},
    ])

    handle.provider.observe.mockResolvedValueOnce([host('h', 'head'), host('w1', 'worker', 'stopped')])
    await expect(loadImage({name: 'c1', image: 'cms/spark:1'}, run)).rejects.toThrow(/w1 .* not running/)
  })
})
