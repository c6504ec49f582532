-- Autoscaling (--autoscale): every scaling action of a cluster in an audit trail of its own, and a lease so that
-- of several servers sharing the database, one at a time grows or shrinks a cluster.
CREATE TABLE cluster_events (
  id BIGSERIAL PRIMARY KEY,
  cluster TEXT NOT NULL,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX cluster_events_cluster ON cluster_events (cluster, id);

CREATE TABLE cluster_leases (
  cluster TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until BIGINT NOT NULL
);
