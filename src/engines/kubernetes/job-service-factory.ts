import type {JobService, JobsInput} from '../engine.js'
import {openCertificateAccess} from './api-access.js'
import {KubernetesJobService} from './jobs.js'

/** The cluster's Kubernetes jobs: manifests and portable specs through the API, over an SSH forward to the head. */
export async function openKubernetesJobs(input: JobsInput): Promise<JobService> {
  const {access, close} = await openCertificateAccess({session: input.head.session, address: input.head.address, home: input.head.facts.home}, input.cluster)
  return new KubernetesJobService(access, input, {onClose: close})
}
