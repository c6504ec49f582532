-- Every new task has no finish time and most have no schedule: index only the rows that have one, so that queueing a
-- task writes two index entries fewer. The queries that use these (retention's `finished_at < t`, a schedule's
-- `schedule = s`) imply the column is set, so both databases still use the indexes.
DROP INDEX tasks_finished;
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
DROP INDEX tasks_schedule;
CREATE INDEX tasks_schedule ON tasks (schedule, seq) WHERE schedule IS NOT NULL;
-- A queued task's position (GET /task) counts the queued tasks of its cluster before it: in queue order, that is two
-- index ranges (higher priorities; the same priority and older), read without visiting the others. It replaces
-- (cluster, state), which made every count read every queued task of the cluster.
DROP INDEX tasks_cluster;
CREATE INDEX tasks_queued ON tasks (cluster, priority DESC, seq) WHERE state = 'QUEUED';
