-- Scheduled jobs: each run is an ordinary task linked to its schedule. next_run_at is the only clock: a server
-- that was down across a tick finds it due when it comes back.
CREATE TABLE schedules (
  name TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  task TEXT NOT NULL,
  concurrency TEXT NOT NULL,
  suspended INTEGER NOT NULL DEFAULT 0,
  history INTEGER NOT NULL,
  next_run_at BIGINT,
  last_run_at BIGINT,
  last_task_id TEXT,
  last_note TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- The uploaded files a schedule's runs use (content-addressed, as task_files).
CREATE TABLE schedule_files (
  schedule TEXT NOT NULL,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (schedule, name)
);
CREATE INDEX schedule_files_sha ON schedule_files (sha256);

-- Where a task came from: a schedule, or a job source (directory, SQL table, message queue).
ALTER TABLE tasks ADD COLUMN schedule TEXT;
ALTER TABLE tasks ADD COLUMN source TEXT;
CREATE INDEX tasks_schedule ON tasks (schedule, seq);
