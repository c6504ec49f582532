-- Job sources made through POST /mgmt/sources (the --sources file's stay in the file): every server sharing the
-- database runs them. `config` is the source as posted (JSON; its URLs may hold passwords: never shown).
CREATE TABLE sources (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- How far a source has published its tasks' completion events (the id of the last event published).
CREATE TABLE source_cursors (
  name TEXT PRIMARY KEY,
  seq BIGINT NOT NULL
);
