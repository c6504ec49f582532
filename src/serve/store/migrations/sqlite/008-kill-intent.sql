-- A kill asked for (DELETE /task/{id}) is recorded before the engine is told, so that it outlives a crash of the
-- server or an engine that does not answer: the tracker ends such a task KILLED (never retried), in the name of the
-- key that asked, and tells the engine again while the job still runs.
ALTER TABLE tasks ADD COLUMN kill_requested_by TEXT;
ALTER TABLE tasks ADD COLUMN kill_requested_at BIGINT;
