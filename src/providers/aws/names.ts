/** Names of a cluster's AWS resources. Cluster names are DNS-label safe (validated), so these are too. */

export function keyPairName(cluster: string): string {
  return `cms-${cluster}`
}

export function securityGroupName(cluster: string): string {
  return `cms-${cluster}`
}

/**
 * RunInstances' idempotency token for one host: a retried launch of the same index returns the same instance.
 * The security group id makes it differ between two clusters of the same name (one killed, one new); indexes
 * are never reused within a cluster (see lastIndex), so a token never points at a terminated host. <= 64 chars.
 */
export function launchToken(cluster: string, index: number, securityGroupId: string): string {
  return `cms-${cluster}-${index}-${securityGroupId}`.slice(0, 64)
}
