import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execFileSync} from 'node:child_process'
import {afterAll, describe, expect, it} from 'vitest'
import {checkRegistry, registryReference, taggedReference} from '../../src/images/image-archive.js'
import {checkImageReference, imageInputsHash} from '../../src/images/image-build.js'
import {defaultSparkImageTag} from '../../src/images/spark-image.js'
import {tarStream} from '../../src/providers/tar.js'
import {UsageError} from '../../src/remote/errors.js'

describe('Spark image inputs', () => {
  it('tags by Spark version, and asks for --tag when the version is unknown', () => {
    expect(defaultSparkImageTag('4.3.0')).toBe('cms/spark:4.3.0')
    expect(() => defaultSparkImageTag(undefined)).toThrow(/pass --tag/)
  })

  it('hashes every input: a changed file, runtime or base image means a rebuild', () => {
    const files = {Dockerfile: 'FROM x', 'entrypoint.sh': '#!/bin/bash'}
    const h = imageInputsHash(files, 'dist1', 'sha256:base')
    expect(imageInputsHash({...files}, 'dist1', 'sha256:base')).toBe(h)
    expect(imageInputsHash({...files, Dockerfile: 'FROM y'}, 'dist1', 'sha256:base')).not.toBe(h)
    expect(imageInputsHash(files, 'dist2', 'sha256:base')).not.toBe(h)
    expect(imageInputsHash(files, 'dist1', 'sha256:other')).not.toBe(h)
  })

  it('checks image references', () => {
    for (const ok of ['cms/spark:4.3.0', 'spark', 'registry.example.org:5000/team/spark:v1', '127.0.0.1:5000/cms/spark']) expect(checkImageReference(ok)).toBe(ok)
    for (const bad of ['CMS/Spark', 'cms/spark:', 'a b', 'cms/spark@sha256:00', '-x']) expect(() => checkImageReference(bad)).toThrow(UsageError)
  })
})

describe('image references for load and push', () => {
  it('names an image by NAME:TAG (latest by default), never by id or digest', () => {
    expect(taggedReference('cms/spark:4.3.0')).toBe('cms/spark:4.3.0')
    expect(taggedReference('cms/spark')).toBe('cms/spark:latest')
    expect(taggedReference('localhost:5000/spark')).toBe('localhost:5000/spark:latest')
    expect(() => taggedReference('5b407a9094a0')).toThrow(/NAME:TAG/)
    expect(() => taggedReference('sha256:5b407a9094a0f6f0147092499f394c85c82fa39b6a4c5ab3fd16cd4d4ae6752f')).toThrow(UsageError)
  })

  it('retags for a registry, replacing a registry part', () => {
    expect(registryReference('cms/spark:4.3.0', '127.0.0.1:5000')).toBe('127.0.0.1:5000/cms/spark:4.3.0')
    expect(registryReference('old.example.org/cms/spark:1', 'new.example.org')).toBe('new.example.org/cms/spark:1')
    expect(registryReference('busybox:1', 'r.example.org')).toBe('r.example.org/busybox:1')
    expect(checkRegistry('127.0.0.1:5000')).toBe('127.0.0.1:5000')
    expect(() => checkRegistry('https://r.example.org')).toThrow(/HOST\[:PORT\]/)
  })
})

describe('tarStream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-tarstream-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('streams buffers and local files into an archive tar reads', async () => {
    const big = join(dir, 'big.bin')
    const content = Buffer.alloc(3 * 1024 * 1024 + 17, 7)
    writeFileSync(big, content)
    const chunks: Buffer[] = []
    for await (const c of tarStream([
      {path: 'Dockerfile', content: 'FROM scratch\n', mode: 0o644},
      {path: 'data/big.bin', file: big, size: content.length, mode: 0o600},
    ]))
      chunks.push(c as Buffer)
    const archive = join(dir, 'out.tar')
    writeFileSync(archive, Buffer.concat(chunks))
    expect(execFileSync('tar', ['-tvf', archive], {encoding: 'utf8'})).toMatch(/-rw-r--r-- .* 13 .*Dockerfile\n-rw------- .* 3145745 .*data\/big.bin/)
    execFileSync('tar', ['-xf', archive, '-C', dir])
    expect(readFileSync(join(dir, 'data/big.bin')).equals(content)).toBe(true)
  })

  it('fails when a file is not the size announced', async () => {
    const f = join(dir, 'small.bin')
    writeFileSync(f, 'abc')
    const read = async () => {
      for await (const _ of tarStream([{path: 'x', file: f, size: 10, mode: 0o644}])) void _
    }
    await expect(read()).rejects.toThrow(/changed while it was being read/)
  })
})
