import {Flags} from '@oclif/core'
import type {EngineOptions} from '../engine.js'
import {checkHdfsOptions, hadoopDistFlag, hdfsFlag} from '../hadoop/flags.js'
import {checkCoreDnsDistSource, checkKubernetesDistSource, checkLocalPathDistSource, COREDNS_VERSION, KUBERNETES_VERSION, LOCAL_PATH_VERSION} from './dist.js'

export const kubernetesFlags = {
  'k8s-dist': Flags.string({
    description: `kubernetes: Kubernetes server binaries, a path or URL (.tgz/.tar with bin/kubelet...) [default: $CMS_K8S_DIST, else the official ${KUBERNETES_VERSION} linux-amd64 server archive].`,
  }),
  'coredns-dist': Flags.string({
    description: `kubernetes: CoreDNS release archive, a path or URL (.tgz) [default: $CMS_COREDNS_DIST, else the official CoreDNS ${COREDNS_VERSION} linux_amd64 release].`,
  }),
  'local-path-dist': Flags.string({
    description: `kubernetes: local-path-provisioner ${LOCAL_PATH_VERSION} archive (.tgz with one local-path-provisioner binary; scripts/local-path-dist.sh builds it), the default StorageClass's provisioner [default: $CMS_LOCAL_PATH_DIST].`,
  }),
  hdfs: hdfsFlag,
  'hadoop-dist': hadoopDistFlag,
}

export const kubernetesAddFlags = {
  'k8s-dist': Flags.string({description: 'kubernetes: Kubernetes server binaries [default: the ones the cluster runs, from its head].'}),
}

export function checkKubernetesOptions(options: EngineOptions, ctx: {adding: boolean}): void {
  if (options['k8s-dist'] !== undefined || !ctx.adding) checkKubernetesDistSource(options['k8s-dist'] as string | undefined)
  if (options['coredns-dist'] !== undefined || !ctx.adding) checkCoreDnsDistSource(options['coredns-dist'] as string | undefined)
  if (options['local-path-dist'] !== undefined || !ctx.adding) checkLocalPathDistSource(options['local-path-dist'] as string | undefined)
  checkHdfsOptions(options)
}
