import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {headArchivesScript, listLoadedImagesScript, missingImages, parseLoadedImages} from '../../../src/engines/kubernetes/loaded-images.js'

const SOCK = '/run/cms/k/containerd/containerd.sock'
// As containerd 1.6's ctr prints it: the size holds a space, labels are the last column.
const HEAD_LIST = [
  'REF                                      TYPE                                                 DIGEST                                                                  SIZE      PLATFORMS   LABELS',
  'cms.local/coredns:1.12.4                 application/vnd.docker.distribution.manifest.v2+json sha256:1111111111111111111111111111111111111111111111111111111111111111 19.4 MiB  linux/amd64 io.cri-containerd.image=managed',
  'cms.local/pause:catatonit                application/vnd.docker.distribution.manifest.v2+json sha256:2222222222222222222222222222222222222222222222222222222222222222 338.9 KiB linux/amd64 io.cri-containerd.image=managed',
  'docker.io/cms/spark:4.3.0                application/vnd.docker.distribution.manifest.v2+json sha256:3333333333333333333333333333333333333333333333333333333333333333 612.0 MiB linux/amd64 cms.image-id=5b407a9094a0f6f0,io.cri-containerd.image=managed',
  'docker.io/library/busybox:e2e            application/vnd.docker.distribution.manifest.v2+json sha256:4444444444444444444444444444444444444444444444444444444444444444 1.1 MiB   linux/amd64 io.cri-containerd.image=managed,cms.image-id=0a1b2c3d4e5f6071',
  'sha256:5555555555555555555555555555555555555555555555555555555555555555 application/vnd.docker.distribution.manifest.v2+json sha256:5555555555555555555555555555555555555555555555555555555555555555 1.1 MiB linux/amd64 io.cri-containerd.image=managed',
].join('\n')

describe('images cms loaded, for a node that joins', () => {
  it("lists the head's images that carry cms's id label, and nothing else", () => {
    expect(parseLoadedImages(HEAD_LIST)).toEqual([
      {ref: 'docker.io/cms/spark:4.3.0', key: '5b407a9094a0f6f0'},
      {ref: 'docker.io/library/busybox:e2e', key: '0a1b2c3d4e5f6071'},
    ])
    expect(parseLoadedImages('REF TYPE DIGEST SIZE PLATFORMS LABELS\n')).toEqual([])
    expect(listLoadedImagesScript(SOCK)).toBe(`ctr --address ${SOCK} -n k8s.io images ls`)
  })

  it('brings a node what it lacks: an image it does not have, or has as another image under that name', () => {
    const head = parseLoadedImages(HEAD_LIST)
    expect(missingImages(head, [])).toEqual(head)
    expect(missingImages(head, head)).toEqual([])
    expect(missingImages(head, [{ref: 'docker.io/cms/spark:4.3.0', key: '5b407a9094a0f6f0'}, {ref: 'docker.io/library/busybox:e2e', key: 'ffffffffffffffff'}])).toEqual([head[1]])
    // An image only the node has stays, and is not the head's business.
    expect(missingImages([], head)).toEqual([])
  })

  it("keeps each image's archive on the head, exported from containerd only when it is not there", () => {
    const s = headArchivesScript({socket: SOCK, home: '/root', images: [{ref: 'docker.io/cms/spark:4.3.0', key: '5b407a9094a0f6f0'}]})
    execFileSync('sh', ['-n', '-c', s])
    expect(s).toContain('if [ ! -s /root/.cms/dist/image-5b407a9094a0f6f0.tar ]; then')
    expect(s).toContain(`ctr --address ${SOCK} -n k8s.io images export /root/.cms/dist/image-5b407a9094a0f6f0.tar.part docker.io/cms/spark:4.3.0`)
    expect(() => headArchivesScript({socket: SOCK, home: '/root', images: [{ref: 'x', key: '../../etc'}]})).toThrow(/image key/)
  })
})
