-- The queue, its attempts, the audit trail, uploaded files and API keys. Times are milliseconds since the epoch.
CREATE TABLE tasks (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  clusters TEXT NOT NULL,
  cluster TEXT NOT NULL,
  engine TEXT,
  priority INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  demand_cores DOUBLE PRECISION NOT NULL,
  demand_memory_mb INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  runs INTEGER NOT NULL DEFAULT 0,
  not_before BIGINT NOT NULL DEFAULT 0,
  engine_job_id TEXT,
  lease_owner TEXT,
  lease_until BIGINT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE INDEX tasks_queue ON tasks (state, priority DESC, seq);
CREATE INDEX tasks_cluster ON tasks (cluster, state);
CREATE INDEX tasks_finished ON tasks (finished_at);

CREATE TABLE attempts (
  task_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  cluster TEXT NOT NULL,
  engine TEXT NOT NULL,
  engine_name TEXT NOT NULL,
  engine_job_id TEXT,
  state TEXT NOT NULL,
  submitted_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  exit_code INTEGER,
  detail TEXT,
  PRIMARY KEY (task_id, n)
);

CREATE TABLE events (
  id BIGSERIAL PRIMARY KEY,
  task_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX events_task ON events (task_id, id);

CREATE TABLE task_files (
  task_id TEXT NOT NULL,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (task_id, name)
);
CREATE INDEX task_files_sha ON task_files (sha256);

CREATE TABLE api_keys (
  name TEXT PRIMARY KEY,
  scope TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
