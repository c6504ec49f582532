import {createCertificateAuthority, createSigningKeyPair, issueCertificate} from '../pki.js'
import type {CertificateRequest, KeyPairPem, SigningKeyPem} from '../pki.js'
import {checkAddress, checkNodeName} from './names.js'
import {CLUSTER_DOMAIN, DEFAULT_SERVICE_CIDR, firstHost} from './network.js'

/**
 * Every certificate and key a cms Kubernetes cluster needs, made by cms (no kubeadm, no CSR signing in the
 * cluster, so the CA key never runs in a process): two authorities, the cluster CA (API server, clients, kubelets)
 * and an etcd CA (only the API server may talk to etcd, even another holder of a cluster certificate on the head
 * cannot), and the service-account token signing key pair.
 *
 * The request lists are pure (tests read them); issuing adds the keys and signatures.
 */

export const CA_VALIDITY_DAYS = 3650
export const LEAF_VALIDITY_DAYS = 3 * 365

/** Users and groups Kubernetes' default RBAC policy knows: the names in these certificates are its contract. */
export const IDENTITIES = {
  admin: {commonName: 'cms-admin', organizations: ['system:masters']},
  // The API server calling kubelets (logs, exec, port-forward): kubelets authorize it through the API (webhook).
  apiServerKubeletClient: {commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters']},
  apiServerEtcdClient: {commonName: 'kube-apiserver-etcd-client', organizations: []},
  controllerManager: {commonName: 'system:kube-controller-manager', organizations: []},
  scheduler: {commonName: 'system:kube-scheduler', organizations: []},
  kubeProxy: {commonName: 'system:kube-proxy', organizations: []},
} as const

export type ControlPlaneCertificate =
  | 'apiServer'
  | 'apiServerKubeletClient'
  | 'apiServerEtcdClient'
  | 'etcdServer'
  | 'admin'
  | 'controllerManager'
  | 'scheduler'
  | 'kubeProxy'

export type Issuer = 'ca' | 'etcdCa'

export interface CertificateSpec<Name extends string = string> {
  name: Name
  issuer: Issuer
  request: CertificateRequest
}

export interface ControlPlanePkiInput {
  /** The head's private address: the API server listens there; a SAN of its certificate. */
  headAddress: string
  /** The head's node name, a SAN too. */
  headName: string
  serviceCidr?: string
  clusterDomain?: string
  /** More names or addresses the API server is reached by (a load balancer, a public name). */
  extraSans?: string[]
  validityDays?: number
  now?: Date
}

export interface NodeIdentity {
  /** The node's name (CN=system:node:NAME): NodeRestriction limits the kubelet to this Node object. */
  name: string
  /** Its private address: the kubelet's serving certificate names it (the API server dials it there). */
  address: string
}

export interface ClusterAuthorities {
  ca: KeyPairPem
  etcdCa: KeyPairPem
  serviceAccount: SigningKeyPem
}

export type ControlPlaneCertificates = Record<ControlPlaneCertificate, KeyPairPem>

export interface NodeCertificates {
  /** The kubelet's client certificate (CN=system:node:NAME, O=system:nodes). */
  client: KeyPairPem
  /** The kubelet's serving certificate, so the API server can verify kubelets (--kubelet-certificate-authority). */
  serving: KeyPairPem
}

/** The names and addresses in the API server's certificate: in-cluster names, the service address, loopback, the head. */
export function apiServerSans(input: ControlPlanePkiInput): {dnsNames: string[]; ipAddresses: string[]} {
  checkAddress("the head's address", input.headAddress)
  checkNodeName(input.headName)
  const domain = input.clusterDomain ?? CLUSTER_DOMAIN
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) throw new Error(`not a cluster domain: ${JSON.stringify(domain)}`)
  const dnsNames = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`, input.headName]
  const ipAddresses = [firstHost(input.serviceCidr ?? DEFAULT_SERVICE_CIDR), '127.0.0.1', input.headAddress]
  for (const san of input.extraSans ?? []) {
    if (/^[0-9.]+$/.test(san) || san.includes(':')) ipAddresses.push(checkAddress('an extra API server address', san))
    else dnsNames.push(san)
  }
  return {dnsNames: unique(dnsNames), ipAddresses: unique(ipAddresses)}
}

export function controlPlaneCertificateSpecs(input: ControlPlanePkiInput): Array<CertificateSpec<ControlPlaneCertificate>> {
  const validityDays = input.validityDays ?? LEAF_VALIDITY_DAYS
  const now = input.now
  const client = (name: ControlPlaneCertificate, id: {commonName: string; organizations: readonly string[]}, issuer: Issuer = 'ca'): CertificateSpec<ControlPlaneCertificate> => ({
    name,
    issuer,
    request: {
      commonName: id.commonName,
      organizations: [...id.organizations],
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['clientAuth'],
      validityDays,
      now,
    },
  })
  return [
    {
      name: 'apiServer',
      issuer: 'ca',
      request: {commonName: 'kube-apiserver', ...apiServerSans(input), keyUsages: ['digitalSignature'], extendedKeyUsages: ['serverAuth'], validityDays, now},
    },
    client('apiServerKubeletClient', IDENTITIES.apiServerKubeletClient),
    client('apiServerEtcdClient', IDENTITIES.apiServerEtcdClient, 'etcdCa'),
    {
      // etcd's HTTP gateway dials its own gRPC port with this certificate: it must be a client certificate too.
      name: 'etcdServer',
      issuer: 'etcdCa',
      request: {
        commonName: 'etcd-server',
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
        keyUsages: ['digitalSignature'],
        extendedKeyUsages: ['serverAuth', 'clientAuth'],
        validityDays,
        now,
      },
    },
    client('admin', IDENTITIES.admin),
    client('controllerManager', IDENTITIES.controllerManager),
    client('scheduler', IDENTITIES.scheduler),
    client('kubeProxy', IDENTITIES.kubeProxy),
  ]
}

export function nodeCertificateSpecs(node: NodeIdentity, opts: {validityDays?: number; now?: Date} = {}): Array<CertificateSpec<keyof NodeCertificates>> {
  checkNodeName(node.name)
  checkAddress(`node ${node.name}'s address`, node.address)
  const validityDays = opts.validityDays ?? LEAF_VALIDITY_DAYS
  const commonName = `system:node:${node.name}`
  return [
    {
      name: 'client',
      issuer: 'ca',
      request: {commonName, organizations: ['system:nodes'], keyUsages: ['digitalSignature'], extendedKeyUsages: ['clientAuth'], validityDays, now: opts.now},
    },
    {
      name: 'serving',
      issuer: 'ca',
      request: {
        commonName,
        organizations: ['system:nodes'],
        dnsNames: [node.name],
        ipAddresses: [node.address],
        keyUsages: ['digitalSignature'],
        extendedKeyUsages: ['serverAuth'],
        validityDays,
        now: opts.now,
      },
    },
  ]
}

/** New random authorities and service-account key for a new cluster (made once, kept on the head, 0600). */
export function createClusterAuthorities(opts: {now?: Date; validityDays?: number} = {}): ClusterAuthorities {
  const validityDays = opts.validityDays ?? CA_VALIDITY_DAYS
  return {
    ca: createCertificateAuthority({commonName: 'cms-kubernetes-ca', validityDays, now: opts.now}),
    etcdCa: createCertificateAuthority({commonName: 'cms-etcd-ca', validityDays, now: opts.now}),
    serviceAccount: createSigningKeyPair(),
  }
}

export function issueControlPlaneCertificates(authorities: ClusterAuthorities, input: ControlPlanePkiInput): ControlPlaneCertificates {
  const out: Partial<ControlPlaneCertificates> = {}
  for (const spec of controlPlaneCertificateSpecs(input)) out[spec.name] = issueCertificate(authorities[spec.issuer], spec.request)
  return out as ControlPlaneCertificates
}

export function issueNodeCertificates(ca: KeyPairPem, node: NodeIdentity, opts: {validityDays?: number; now?: Date} = {}): NodeCertificates {
  const out: Partial<NodeCertificates> = {}
  for (const spec of nodeCertificateSpecs(node, opts)) out[spec.name] = issueCertificate(ca, spec.request)
  return out as NodeCertificates
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)]
}
