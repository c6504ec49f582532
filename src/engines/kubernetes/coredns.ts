import {isIPv4} from 'node:net'
import {stringify} from 'yaml'
import {CLUSTER_DOMAIN} from './network.js'

/**
 * Cluster DNS: CoreDNS (built by scripts/coredns-dist.sh, its image made on each node by importBinaryImageScript)
 * as a Deployment in kube-system behind the `kube-dns` Service at the reserved address (10.96.0.10), with the RBAC
 * its kubernetes plugin needs (list and watch Services, EndpointSlices, Endpoints, Namespaces, Pods).
 * It listens on 1053 and the Service maps 53 to it, so it runs as a non-root user with no capability at all (no
 * NET_BIND_SERVICE, no file capabilities in the image). No upstream by default: cms clusters resolve their own
 * names; pass `upstreams` to forward the rest.
 */

export const COREDNS_IMAGE = (version: string) => `cms.local/coredns:${version}`
export const COREDNS_PORT = 1053

export interface CoreDnsInput {
  /** The image reference (the nodes import it under this name). */
  image: string
  /** The kube-dns Service's ClusterIP (clusterDnsAddress(serviceCidr)); the kubelets' clusterDNS. */
  serviceIp: string
  clusterDomain?: string
  replicas?: number
  /** Resolvers for names outside the cluster (none: such lookups fail with SERVFAIL). */
  upstreams?: string[]
}

export function renderCorefile(input: Pick<CoreDnsInput, 'clusterDomain' | 'upstreams'>): string {
  const domain = input.clusterDomain ?? CLUSTER_DOMAIN
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) throw new Error(`not a cluster domain: ${JSON.stringify(domain)}`)
  for (const u of input.upstreams ?? []) if (!isIPv4(u)) throw new Error(`an upstream resolver must be an IPv4 address, not ${JSON.stringify(u)}`)
  return [
    `.:${COREDNS_PORT} {`,
    '    errors',
    '    health {',
    '        lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${domain} in-addr.arpa ip6.arpa {`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 30',
    '    }',
    ...(input.upstreams?.length ? [`    forward . ${input.upstreams.join(' ')}`, '    loop'] : []),
    '    cache 30',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n')
}

/** The manifests, one YAML stream (ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, Deployment, Service). */
export function renderCoreDnsManifests(input: CoreDnsInput): string {
  if (!isIPv4(input.serviceIp)) throw new Error(`the DNS service address must be an IPv4 address, not ${JSON.stringify(input.serviceIp)}`)
  if (!/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(input.image)) throw new Error(`not an image reference: ${JSON.stringify(input.image)}`)
  const replicas = input.replicas ?? 1
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 10) throw new Error(`CoreDNS replicas must be 1-10, not ${replicas}`)
  const labels = {'k8s-app': 'kube-dns'}
  const ns = 'kube-system'
  const docs: object[] = [
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'coredns', namespace: ns}},
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {name: 'system:coredns'},
      rules: [
        {apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch']},
        {apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch']},
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {name: 'system:coredns'},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns'},
      subjects: [{kind: 'ServiceAccount', name: 'coredns', namespace: ns}],
    },
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'coredns', namespace: ns}, data: {Corefile: renderCorefile(input)}},
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: 'coredns', namespace: ns, labels},
      spec: {
        replicas,
        selector: {matchLabels: labels},
        template: {
          metadata: {labels},
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            // Its own resolv.conf is the node's (it must not ask itself).
            dnsPolicy: 'Default',
            securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: 'RuntimeDefault'}},
            containers: [
              {
                name: 'coredns',
                image: input.image,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  {name: 'dns', containerPort: COREDNS_PORT, protocol: 'UDP'},
                  {name: 'dns-tcp', containerPort: COREDNS_PORT, protocol: 'TCP'},
                  {name: 'metrics', containerPort: 9153, protocol: 'TCP'},
                ],
                resources: {requests: {cpu: '50m', memory: '40Mi'}, limits: {memory: '170Mi'}},
                securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL']}},
                volumeMounts: [{name: 'config', mountPath: '/etc/coredns', readOnly: true}],
                livenessProbe: {httpGet: {path: '/health', port: 8080}, initialDelaySeconds: 10, timeoutSeconds: 5, failureThreshold: 5},
                readinessProbe: {httpGet: {path: '/ready', port: 8181}},
              },
            ],
            volumes: [{name: 'config', configMap: {name: 'coredns', items: [{key: 'Corefile', path: 'Corefile'}]}}],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'kube-dns', namespace: ns, labels: {...labels, 'kubernetes.io/name': 'CoreDNS'}},
      spec: {
        selector: labels,
        clusterIP: input.serviceIp,
        ports: [
          {name: 'dns', port: 53, targetPort: COREDNS_PORT, protocol: 'UDP'},
          {name: 'dns-tcp', port: 53, targetPort: COREDNS_PORT, protocol: 'TCP'},
          {name: 'metrics', port: 9153, targetPort: 9153, protocol: 'TCP'},
        ],
      },
    },
  ]
  return docs.map((d) => stringify(d, {lineWidth: 0})).join('---\n')
}
