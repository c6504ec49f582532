import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import {COREDNS_IMAGE, COREDNS_PORT, renderCorefile, renderCoreDnsManifests} from '../../../src/engines/kubernetes/coredns.js'

const input = {image: COREDNS_IMAGE('1.12.4'), serviceIp: '10.96.0.10'}

describe('cluster DNS', () => {
  it('serves the cluster domain on an unprivileged port, with no upstream unless asked', () => {
    const corefile = renderCorefile({})
    expect(corefile).toMatch(/^\.:1053 \{$/m)
    expect(corefile).toMatch(/^ {4}kubernetes cluster\.local in-addr\.arpa ip6\.arpa \{$/m)
    expect(corefile).not.toMatch(/forward/)
    expect(renderCorefile({upstreams: ['192.0.2.53'], clusterDomain: 'k8s.test'})).toMatch(/kubernetes k8s\.test [\s\S]*forward \. 192\.0\.2\.53\n {4}loop/)
    expect(() => renderCorefile({upstreams: ['dns.example']})).toThrow(/IPv4/)
    expect(() => renderCorefile({clusterDomain: 'a b'})).toThrow(/cluster domain/)
  })

  it('runs CoreDNS as a non-root Deployment with no capability behind kube-dns at the reserved address', () => {
    const docs = parseAllDocuments(renderCoreDnsManifests(input)).map((d) => d.toJS())
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ServiceAccount/coredns',
      'ClusterRole/system:coredns',
      'ClusterRoleBinding/system:coredns',
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
    ])
    const [sa, role, binding, cm, deploy, svc] = docs
    expect(sa.metadata.namespace).toBe('kube-system')
    expect(role.rules.flatMap((r: {verbs: string[]}) => r.verbs).every((v: string) => v === 'list' || v === 'watch')).toBe(true)
    expect(binding.subjects).toEqual([{kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system'}])
    expect(cm.data.Corefile).toBe(renderCorefile({}))
    const pod = deploy.spec.template.spec
    expect(pod.securityContext).toMatchObject({runAsNonRoot: true, runAsUser: 65532})
    expect(pod.containers[0]).toMatchObject({image: 'cms.local/coredns:1.12.4', imagePullPolicy: 'Never'})
    expect(pod.containers[0].securityContext).toEqual({allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL']}})
    expect(pod.dnsPolicy).toBe('Default')
    expect(svc.spec.clusterIP).toBe('10.96.0.10')
    expect(svc.spec.ports.map((p: {port: number; targetPort: number; protocol: string}) => `${p.protocol}:${p.port}->${p.targetPort}`)).toEqual(['UDP:53->1053', 'TCP:53->1053', 'TCP:9153->9153'])
    expect(deploy.spec.selector.matchLabels).toEqual(svc.spec.selector)
    expect(COREDNS_PORT).toBe(1053)
  })

  it('refuses a bad address, image or replica count', () => {
    expect(() => renderCoreDnsManifests({...input, serviceIp: 'dns'})).toThrow(/IPv4/)
    expect(() => renderCoreDnsManifests({...input, image: 'coredns'})).toThrow(/image reference/)
    expect(() => renderCoreDnsManifests({...input, replicas: 0})).toThrow(/replicas/)
  })
})
