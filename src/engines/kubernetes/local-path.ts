import {stringify} from 'yaml'
import {checkAbsolutePath} from './names.js'

/**
 * The cluster's default StorageClass, `local-path`: rancher's local-path-provisioner (built by
 * scripts/local-path-dist.sh, its image made on each node by importBinaryImageScript) answers every claim of that
 * class with a folder under `volumesDir` on the node the claim's first pod is scheduled to (WaitForFirstConsumer),
 * so a StatefulSet's claims bind with no setup. It makes and removes those folders through short-lived helper pods
 * of a busybox image (Debian's busybox-static at /bin/sh, which runs its applets itself); `reclaimPolicy: Delete`
 * removes a volume's folder with its claim, and `kill` removes the whole folder with the cluster's data.
 */

export const LOCAL_PATH_IMAGE = (version: string) => `cms.local/local-path-provisioner:${version}`
export const LOCAL_PATH_HELPER_IMAGE = 'cms.local/local-path-helper:busybox'
export const LOCAL_PATH_NAMESPACE = 'local-path-storage'
export const LOCAL_PATH_CLASS = 'local-path'
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path'
/** Debian's busybox-static: the helper pods' /bin/sh. */
export const BUSYBOX_BINARY = '/bin/busybox'

export interface LocalPathInput {
  /** The provisioner's image reference (the nodes import it under this name). */
  image: string
  /** The volumes' parent folder on every node. */
  volumesDir: string
  helperImage?: string
}

const SCRIPTS = {
  setup: ['#!/bin/sh', 'set -eu', 'mkdir -m 0777 -p "$VOL_DIR"', ''].join('\n'),
  teardown: ['#!/bin/sh', 'set -eu', 'rm -rf "$VOL_DIR"', ''].join('\n'),
}

/** The manifests, one YAML stream: namespace, RBAC, the provisioner's ConfigMap and Deployment, the default StorageClass. */
export function renderLocalPathManifests(input: LocalPathInput): string {
  const volumesDir = checkAbsolutePath('the volumes folder', input.volumesDir)
  const helperImage = input.helperImage ?? LOCAL_PATH_HELPER_IMAGE
  for (const ref of [input.image, helperImage]) {
    if (!/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(ref)) throw new Error(`not an image reference: ${JSON.stringify(ref)}`)
  }
  const ns = LOCAL_PATH_NAMESPACE
  const name = 'local-path-provisioner'
  const labels = {app: name}
  const config = {nodePathMap: [{node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [volumesDir]}]}
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: 'helper-pod'},
    spec: {
      priorityClassName: 'system-node-critical',
      containers: [{name: 'helper-pod', image: helperImage, imagePullPolicy: 'Never', securityContext: {runAsUser: 0, runAsGroup: 0}}],
    },
  }
  const docs: object[] = [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}},
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name, namespace: ns}},
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: {name, namespace: ns},
      rules: [{apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete']}],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {name, namespace: ns},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name},
      subjects: [{kind: 'ServiceAccount', name, namespace: ns}],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {name: `cms:${name}`},
      rules: [
        {apiGroups: [''], resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'], verbs: ['get', 'list', 'watch']},
        {apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete']},
        {apiGroups: [''], resources: ['events'], verbs: ['create', 'patch']},
        {apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch']},
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {name: `cms:${name}`},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `cms:${name}`},
      subjects: [{kind: 'ServiceAccount', name, namespace: ns}],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {name: 'local-path-config', namespace: ns},
      data: {'config.json': JSON.stringify(config), setup: SCRIPTS.setup, teardown: SCRIPTS.teardown, 'helperPod.yaml': stringify(helperPod, {lineWidth: 0})},
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name, namespace: ns, labels},
      spec: {
        replicas: 1,
        selector: {matchLabels: labels},
        template: {
          metadata: {labels},
          spec: {
            serviceAccountName: name,
            priorityClassName: 'system-cluster-critical',
            securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: 'RuntimeDefault'}},
            containers: [
              {
                name,
                image: input.image,
                imagePullPolicy: 'Never',
                args: ['start', '--config', '/etc/config/config.json', '--service-account-name', name, '--helper-image', helperImage],
                env: [
                  {name: 'POD_NAMESPACE', valueFrom: {fieldRef: {fieldPath: 'metadata.namespace'}}},
                  {name: 'CONFIG_MOUNT_PATH', value: '/etc/config/'},
                ],
                // No CPU request: a node's whole cores stay schedulable for Spark's executors (1 core each).
                resources: {requests: {memory: '32Mi'}, limits: {memory: '128Mi'}},
                securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL']}},
                volumeMounts: [{name: 'config', mountPath: '/etc/config/', readOnly: true}],
              },
            ],
            volumes: [{name: 'config', configMap: {name: 'local-path-config'}}],
          },
        },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {name: LOCAL_PATH_CLASS, annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}},
      provisioner: LOCAL_PATH_PROVISIONER,
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  ]
  return docs.map((d) => stringify(d, {lineWidth: 0})).join('---\n')
}
