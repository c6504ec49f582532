import type {Db} from './db.js'

/** One row of `cluster_events`: a scaling action of a cluster (started, done, failed). */
export interface ClusterEventRow {
  id: number
  cluster: string
  at: number
  actor: string
  kind: string
  detail: string
}

/** The clusters' own audit trail (what the autoscaler did) and the lease that lets one server at a time act. */
export class ClusterEventStore {
  constructor(readonly db: Db) {}

  async add(e: Omit<ClusterEventRow, 'id'>): Promise<void> {
    await this.db.run('INSERT INTO cluster_events (cluster, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)', [e.cluster, e.at, e.actor, e.kind, e.detail])
  }

  /** The cluster's latest events, newest first. */
  async list(cluster: string, limit: number): Promise<ClusterEventRow[]> {
    const rows = await this.db.all<ClusterEventRow>('SELECT id, cluster, at, actor, kind, detail FROM cluster_events WHERE cluster = $1 ORDER BY id DESC LIMIT $2', [cluster, limit])
    return rows.map((r) => ({...r, id: Number(r.id), at: Number(r.at)}))
  }

  /**
   * Takes (or renews) the cluster's scaling lease until `until`: true when this owner holds it now, false while
   * another server's lease runs.
   */
  async takeLease(cluster: string, owner: string, until: number, now: number): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO cluster_leases (cluster, owner, until) VALUES ($1, $2, $3)
       ON CONFLICT (cluster) DO UPDATE SET owner = excluded.owner, until = excluded.until
       WHERE cluster_leases.until < $4 OR cluster_leases.owner = $2`,
      [cluster, owner, until, now],
    )
    return changed === 1
  }

  async releaseLease(cluster: string, owner: string): Promise<void> {
    await this.db.run('DELETE FROM cluster_leases WHERE cluster = $1 AND owner = $2', [cluster, owner])
  }

  /** Forgets events older than `before`; returns how many. */
  async purge(before: number): Promise<number> {
    return this.db.run('DELETE FROM cluster_events WHERE at < $1', [before])
  }
}
