import type {JobOverrides} from '../../jobs/load.js'
import type {JobService, JobsInput, LoadedJob} from '../engine.js'

// Wired to the manifests job service when it lands (helper branch k8s-jobs).
export async function openKubernetesJobs(_input: JobsInput): Promise<JobService> {
  throw new Error('jobs on Kubernetes clusters are not wired yet')
}

export async function loadKubernetesJobFiles(_files: string[], _overrides: JobOverrides): Promise<LoadedJob[]> {
  throw new Error('jobs on Kubernetes clusters are not wired yet')
}
