import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {imageKey, imagePresentScript, importImageScript, normalizeImageRef} from '../../../src/engines/kubernetes/image-load.js'

const SOCK = '/run/cms/k/containerd/containerd.sock'
const ID = 'sha256:5b407a9094a0f6f0147092499f394c85c82fa39b6a4c5ab3fd16cd4d4ae6752f'
const syntaxOk = (script: string) => execFileSync('sh', ['-n', '-c', script])

describe('normalizeImageRef', () => {
  it("names images the way containerd names a Docker archive's tags", () => {
    expect(normalizeImageRef('cms/spark:4.3.0')).toBe('docker.io/cms/spark:4.3.0')
    expect(normalizeImageRef('busybox')).toBe('docker.io/library/busybox:latest')
    expect(normalizeImageRef('localhost/x:1')).toBe('localhost/x:1')
    expect(normalizeImageRef('127.0.0.1:5000/cms/spark')).toBe('127.0.0.1:5000/cms/spark:latest')
    expect(normalizeImageRef('registry.example.org/team/app:v2')).toBe('registry.example.org/team/app:v2')
  })

  it('keys an image by its id', () => {
    expect(imageKey(ID)).toBe('5b407a9094a0f6f0')
    expect(() => imageKey('latest')).toThrow(/not an image id/)
  })
})

describe('image scripts', () => {
  it('checks presence by name and id label in cms\'s containerd, failing when containerd is not running', () => {
    const s = imagePresentScript({socket: SOCK, ref: 'docker.io/cms/spark:4.3.0', id: ID})
    syntaxOk(s)
    expect(s).toContain(`ctr --address ${SOCK} -n k8s.io images ls name==docker.io/cms/spark:4.3.0`)
    expect(s).toContain('cms.image-id=5b407a9094a0f6f0')
    expect(s).toContain(`[ -S ${SOCK} ]`)
  })

  it('streams the archive from the head into ctr import, and fails when the fetch fails', () => {
    const s = importImageScript({socket: SOCK, ref: 'docker.io/cms/spark:4.3.0', id: ID, source: {url: 'http://192.168.0.3:41234/image-5b407a9094a0f6f0.tar'}})
    syntaxOk(s)
    expect(s).toContain('curl -fsS --retry 3 http://192.168.0.3:41234/image-5b407a9094a0f6f0.tar || echo failed > "$st"; } | ctr')
    expect(s).toContain('images import - >/dev/null')
    // The very image (its config blob) must be there before it is labelled.
    expect(s).toContain('content ls -q | grep -q \'^sha256:5b407a9094a0f6f0\'')
    expect(s.indexOf('content ls')).toBeLessThan(s.indexOf('images label'))
  })

  it('exits non-zero when curl fails, even though ctr read an empty stream without complaint', () => {
    const s = importImageScript({socket: SOCK, ref: 'docker.io/cms/spark:4.3.0', id: ID, source: {url: 'http://192.168.0.3:1/x.tar'}})
    const fakes = 'curl() { return 22; }\nctr() { cat >/dev/null; echo docker.io/cms/spark:4.3.0; echo ' + ID + '; }'
    let status = 0
    try {
      execFileSync('sh', ['-c', `${fakes}\n${s}`], {stdio: 'pipe'})
    } catch (error) {
      status = (error as {status: number}).status
    }
    expect(status).toBe(5)
  })

  it('imports an uploaded file and removes it when asked', () => {
    const kept = importImageScript({socket: SOCK, ref: 'docker.io/cms/spark:4.3.0', id: ID, source: {file: '/root/.cms/dist/image-5b407a9094a0f6f0.tar'}})
    syntaxOk(kept)
    expect(kept).not.toContain('trap')
    const removed = importImageScript({socket: SOCK, ref: 'docker.io/cms/spark:4.3.0', id: ID, source: {file: "/root/it's.tar", removeFile: true}})
    syntaxOk(removed)
    expect(removed).toContain(`f='/root/it'\\''s.tar'`)
    expect(removed).toContain('trap \'rm -f "$f"\' EXIT')
  })

  it('refuses names that are not normalized references', () => {
    expect(() => imagePresentScript({socket: SOCK, ref: 'cms/spark', id: ID})).toThrow(/not a normalized image reference/)
    expect(() => importImageScript({socket: 'relative.sock', ref: 'docker.io/cms/spark:1', id: ID, source: {url: 'http://x/y'}})).toThrow()
  })

  it('runs against a stand-in ctr: a present image is found, an absent one is not', () => {
    // A fake `ctr` on PATH answering like containerd 1.6's (REF TYPE DIGEST SIZE PLATFORMS LABELS).
    const fake = `ctr() { echo 'REF TYPE DIGEST SIZE PLATFORMS LABELS'; echo 'docker.io/cms/spark:4.3.0 application/x sha256:1 1 linux/amd64 cms.image-id=5b407a9094a0f6f0'; }`
    const sock = '/tmp'
    const run = (id: string) =>
      execFileSync('sh', ['-c', `${fake}\n${imagePresentScript({socket: sock, ref: 'docker.io/cms/spark:4.3.0', id}).replace(`[ -S ${sock} ]`, `[ -d ${sock} ]`)}`], {encoding: 'utf8'}).trim()
    expect(run(ID)).toBe('present')
    expect(run('sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe('absent')
  })
})
