import {describe, expect, it} from 'vitest'
import {parse, parseAllDocuments} from 'yaml'
import {LOCAL_PATH_HELPER_IMAGE, LOCAL_PATH_IMAGE, renderLocalPathManifests} from '../../../src/engines/kubernetes/local-path.js'
import {kubernetesLayout} from '../../../src/engines/kubernetes/layout.js'

const volumesDir = kubernetesLayout('/home/cms', 'demo').volumesDir
const input = {image: LOCAL_PATH_IMAGE('0.0.30'), volumesDir}

describe('the local-path StorageClass', () => {
  it('keeps the volumes in the cluster folder kill removes', () => {
    expect(volumesDir).toBe('/var/lib/cms/demo/volumes')
  })

  it('is the default class, provisioned when the first pod is scheduled and removed with its claim', () => {
    const docs = parseAllDocuments(renderLocalPathManifests(input)).map((d) => d.toJS())
    const sc = docs.find((d) => d.kind === 'StorageClass')
    expect(sc).toMatchObject({
      metadata: {name: 'local-path', annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}},
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    })
    expect(docs[0]).toEqual({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'local-path-storage'}})
  })

  it('runs the provisioner unprivileged from the image cms made, its helper pods from the busybox image, on the volumes folder', () => {
    const docs = parseAllDocuments(renderLocalPathManifests(input)).map((d) => d.toJS())
    const deploy = docs.find((d) => d.kind === 'Deployment')
    const pod = deploy.spec.template.spec
    expect(pod.securityContext).toMatchObject({runAsNonRoot: true, runAsUser: 65532})
    expect(pod.containers[0]).toMatchObject({image: 'cms.local/local-path-provisioner:0.0.30', imagePullPolicy: 'Never'})
    expect(pod.containers[0].args).toEqual(['start', '--config', '/etc/config/config.json', '--service-account-name', pod.serviceAccountName, '--helper-image', LOCAL_PATH_HELPER_IMAGE])
    const cm = docs.find((d) => d.kind === 'ConfigMap')
    expect(JSON.parse(cm.data['config.json'])).toEqual({nodePathMap: [{node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/var/lib/cms/demo/volumes']}]})
    expect(cm.data.setup).toMatch(/mkdir -m 0777 -p "\$VOL_DIR"/)
    expect(cm.data.teardown).toMatch(/rm -rf "\$VOL_DIR"/)
    const helper = parse(cm.data['helperPod.yaml'])
    expect(helper.spec.containers[0]).toMatchObject({image: LOCAL_PATH_HELPER_IMAGE, imagePullPolicy: 'Never'})
    const binding = docs.find((d) => d.kind === 'ClusterRoleBinding')
    expect(binding.subjects).toEqual([{kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'local-path-storage'}])
  })

  it('refuses a relative folder or a bad image reference', () => {
    expect(() => renderLocalPathManifests({...input, volumesDir: 'volumes'})).toThrow(/absolute/)
    expect(() => renderLocalPathManifests({...input, image: 'provisioner'})).toThrow(/image reference/)
  })
})
