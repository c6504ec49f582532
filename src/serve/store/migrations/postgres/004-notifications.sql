-- Webhooks: a task's notify settings, and an outbox of calls written in the transaction of the state change that
-- causes them (so none is lost or made up), sent and retried by the notifier loop.
ALTER TABLE tasks ADD COLUMN notify TEXT;

CREATE TABLE notifications (
  id BIGSERIAL PRIMARY KEY,
  task_id TEXT NOT NULL,
  event TEXT NOT NULL,
  state TEXT NOT NULL,
  detail TEXT,
  url TEXT NOT NULL,
  at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT,
  sent_at BIGINT,
  last_error TEXT
);
CREATE INDEX notifications_due ON notifications (next_at);
