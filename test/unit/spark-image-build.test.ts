import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {INPUTS_LABEL} from '../../src/images/image-build.js'
import {buildSparkImage, sparkImageDir} from '../../src/images/spark-image.js'
import {fakeDocker} from './fake-docker.js'

describe('buildSparkImage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-spark-image-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const dist = join(dir, 'spark-9.9.9-bin-test.tgz')
  writeFileSync(dist, 'not really a runtime')

  it('streams Dockerfile, entrypoint and the runtime; tags by version; builds once per inputs', async () => {
    const {docker, builds} = fakeDocker(dir)
    const first = await buildSparkImage({distSource: dist, log: () => {}, docker})
    expect(first).toMatchObject({tag: 'cms/spark:9.9.9', built: true, sparkVersion: '9.9.9', id: 'sha256:built1'})
    expect(builds).toHaveLength(1)
    expect(builds[0]!.entries).toEqual(['Dockerfile', 'entrypoint.sh', 'spark-dist.tgz'])
    expect(builds[0]!.opts).toMatchObject({t: 'cms/spark:9.9.9', buildargs: {BASE_IMAGE: 'debian:bookworm-slim'}, labels: {[INPUTS_LABEL]: expect.stringMatching(/^[0-9a-f]{64}$/)}})
    const again = await buildSparkImage({distSource: dist, log: () => {}, docker})
    expect(again).toMatchObject({tag: 'cms/spark:9.9.9', built: false, id: 'sha256:built1'})
    expect(builds).toHaveLength(1)
  })

  it('builds again when an input changed (another runtime, another entrypoint)', async () => {
    const {docker, builds} = fakeDocker(dir)
    await buildSparkImage({distSource: dist, log: () => {}, docker, tag: 'cms/spark:dev'})
    writeFileSync(dist, 'another runtime')
    await buildSparkImage({distSource: dist, log: () => {}, docker, tag: 'cms/spark:dev'})
    expect(builds).toHaveLength(2)
    const ctx = join(dir, 'ctx')
    execFileSync('sh', ['-c', `mkdir -p "$1" && cp "$2"/Dockerfile "$1"/ && printf '#!/bin/bash\\n' > "$1"/entrypoint.sh`, 'sh', ctx, sparkImageDir()])
    await buildSparkImage({distSource: dist, log: () => {}, docker, tag: 'cms/spark:dev', contextDir: ctx})
    expect(builds).toHaveLength(3)
  })

  it('refuses a missing base image and a bad tag before building', async () => {
    const {docker, builds} = fakeDocker(dir)
    await expect(buildSparkImage({distSource: dist, log: () => {}, docker, baseImage: 'debian:trixie'})).rejects.toThrow(/base image debian:trixie is not in the local Docker engine/)
    await expect(buildSparkImage({distSource: dist, log: () => {}, docker, tag: 'No/Good'})).rejects.toThrow(/invalid tag/)
    expect(builds).toHaveLength(0)
  })
})
