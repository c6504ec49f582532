var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// src/serve/store/postgres-db.ts
var postgres_db_exports = {};
__export(postgres_db_exports, {
  openPostgres: () => openPostgres
});
import pg from "pg";
async function openPostgres(url) {
  const pool = new pg.Pool({ connectionString: url, max: 10, types, application_name: "cms serve" });
  pool.on("error", () => void 0);
  return new PostgresDb(pool);
}
var DISPATCH_LOCK, PostgresDb, types;
var init_postgres_db = __esm({
  "src/serve/store/postgres-db.ts"() {
    "use strict";
    DISPATCH_LOCK = 1668117249;
    PostgresDb = class _PostgresDb {
      constructor(pool, client) {
        this.pool = pool;
        this.client = client;
      }
      pool;
      client;
      dialect = "postgres";
      get q() {
        return this.client ?? this.pool;
      }
      async all(sql, params = []) {
        return (await this.q.query(sql, params)).rows;
      }
      async run(sql, params = []) {
        return (await this.q.query(sql, params)).rowCount ?? 0;
      }
      async tx(fn, opts = {}) {
        if (this.client) return fn(this);
        const client = await this.pool.connect();
        try {
          await client.query("BEGIN");
          if (opts.exclusive) await client.query("SELECT pg_advisory_xact_lock($1)", [DISPATCH_LOCK]);
          const result = await fn(new _PostgresDb(this.pool, client));
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => void 0);
          throw error;
        } finally {
          client.release();
        }
      }
      async exec(sql) {
        await this.q.query(sql);
      }
      async close() {
        await this.pool.end();
      }
    };
    types = {
      getTypeParser: ((oid, format) => {
        if (oid === 20) return (v) => Number(v);
        return pg.types.getTypeParser(oid, format);
      })
    };
  }
});

// src/serve/store/sqlite-db.ts
var sqlite_db_exports = {};
__export(sqlite_db_exports, {
  openSqlite: () => openSqlite
});
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
function toSqlite(sql) {
  return sql.replace(/\$(\d+)/g, "@p$1");
}
function named(params) {
  const out = {};
  params.forEach((v, i) => out[`p${i + 1}`] = v);
  return out;
}
function openSqlite(path) {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 448 });
  const db2 = new Database(path);
  db2.pragma("journal_mode = WAL");
  db2.pragma("synchronous = FULL");
  db2.pragma("busy_timeout = 5000");
  db2.pragma("foreign_keys = ON");
  return new SqliteDb(db2);
}
var SqliteDb;
var init_sqlite_db = __esm({
  "src/serve/store/sqlite-db.ts"() {
    "use strict";
    SqliteDb = class {
      constructor(db2) {
        this.db = db2;
      }
      db;
      dialect = "sqlite";
      cache = /* @__PURE__ */ new Map();
      chain = Promise.resolve();
      inTx = false;
      stmt(sql) {
        let s = this.cache.get(sql);
        if (!s) {
          s = this.db.prepare(toSqlite(sql));
          if (this.cache.size > 500) this.cache.clear();
          this.cache.set(sql, s);
        }
        return s;
      }
      rawAll(sql, params) {
        const s = this.stmt(sql);
        return s.reader ? s.all(named(params)) : (s.run(named(params)), []);
      }
      rawRun(sql, params) {
        return this.stmt(sql).run(named(params)).changes;
      }
      /** Waits until no transaction is open, then runs `fn` in the same tick (so none can open in between). */
      async outside(fn) {
        for (let i = 0; this.inTx && i < 1e6; i++) await this.chain;
        return fn();
      }
      all(sql, params = []) {
        return this.outside(() => this.rawAll(sql, params));
      }
      run(sql, params = []) {
        return this.outside(() => this.rawRun(sql, params));
      }
      async tx(fn, opts = {}) {
        const previous = this.chain;
        let release;
        this.chain = new Promise((r) => release = r);
        await previous;
        for (let i = 0; this.inTx && i < 1e6; i++) await new Promise((r) => setImmediate(r));
        this.inTx = true;
        const inner = {
          dialect: "sqlite",
          all: async (sql, params = []) => this.rawAll(sql, params),
          run: async (sql, params = []) => this.rawRun(sql, params),
          tx: (f) => f(inner),
          exec: async (sql) => void this.db.exec(sql),
          close: async () => void 0
        };
        try {
          this.db.exec(opts.exclusive ? "BEGIN IMMEDIATE" : "BEGIN");
          try {
            const result = await fn(inner);
            this.db.exec("COMMIT");
            return result;
          } catch (error) {
            if (this.db.inTransaction) this.db.exec("ROLLBACK");
            throw error;
          }
        } finally {
          this.inTx = false;
          release();
        }
      }
      async exec(sql) {
        await this.outside(() => this.db.exec(sql));
      }
      async close() {
        await this.chain;
        this.db.close();
      }
    };
  }
});

// src/remote/errors.ts
var UsageError;
var init_errors = __esm({
  "src/remote/errors.ts"() {
    "use strict";
    UsageError = class extends Error {
      constructor(message) {
        super(message);
        this.name = "UsageError";
      }
    };
  }
});

// src/serve/store/db.ts
async function openDb(target) {
  if (/^postgres(ql)?:\/\//i.test(target)) {
    const { openPostgres: openPostgres2 } = await Promise.resolve().then(() => (init_postgres_db(), postgres_db_exports));
    return openPostgres2(target);
  }
  const { openSqlite: openSqlite2 } = await Promise.resolve().then(() => (init_sqlite_db(), sqlite_db_exports));
  return openSqlite2(target);
}

// src/serve/store/migrate.ts
import { readdirSync, readFileSync } from "node:fs";
import { join as join2 } from "node:path";

// src/config/package-root.ts
import { existsSync } from "node:fs";
import { dirname as dirname2, join } from "node:path";
import { fileURLToPath } from "node:url";
var cached;
function packageRoot() {
  if (cached) return cached;
  let dir = dirname2(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "images"))) return cached = dir;
    const parent = dirname2(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cms's package directory was not found above ${fileURLToPath(import.meta.url)}`);
}

// src/serve/store/migrate.ts
function migrationFiles(dialect) {
  const dir = join2(packageRoot(), "src", "serve", "store", "migrations", dialect);
  return readdirSync(dir).map((file) => /^(\d+)-(.+)\.sql$/.exec(file)).filter((m) => m !== null).map((m) => ({ version: Number(m[1]), name: m[2], sql: readFileSync(join2(dir, m[0]), "utf8") })).sort((a, b) => a.version - b.version);
}
async function migrate(db2) {
  const applied = [];
  for (const m of migrationFiles(db2.dialect)) {
    const done = await db2.tx(async (tx) => {
      await tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
      const rows = await tx.all("SELECT version FROM schema_migrations WHERE version = $1", [m.version]);
      if (rows.length > 0) return false;
      await tx.exec(m.sql);
      await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [m.version, m.name, Date.now()]);
      return true;
    }, { exclusive: true });
    if (done) applied.push(m.version);
  }
  return applied;
}

// src/serve/queue/states.ts
var NEXT = {
  QUEUED: ["SUBMITTED", "KILLED"],
  SUBMITTED: ["RUNNING", "SUCCEEDED", "FAILED", "KILLED", "QUEUED"],
  RUNNING: ["SUCCEEDED", "FAILED", "KILLED"],
  FAILED: ["QUEUED", "DEAD"],
  SUCCEEDED: ["QUEUED"],
  KILLED: ["QUEUED"],
  DEAD: ["QUEUED"]
};
function canMove(from, to) {
  return NEXT[from].includes(to);
}

// src/serve/notify/webhook.ts
import { z } from "zod";
var NOTIFY_EVENTS = ["failed", "dead", "succeeded", "killed"];
function eventOfState(state) {
  return { FAILED: "failed", DEAD: "dead", SUCCEEDED: "succeeded", KILLED: "killed" }[state];
}
var notifySchema = z.strictObject(
  {
    url: z.string({ error: "expected the http(s) URL to call" }).max(2048, { error: "longer than 2048 characters" }).refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol) && !new URL(u).username && !new URL(u).password, { error: "expected an http(s) URL without a user or password in it" }),
    on: z.array(z.enum(NOTIFY_EVENTS, { error: `expected events among ${NOTIFY_EVENTS.join(", ")}` })).min(1, { error: "name at least one event" }).optional()
  },
  { error: 'expected {"url", "on"?}' }
);
var DEFAULT_NOTIFY_ON = ["succeeded", "dead", "killed"];

// src/serve/store/store.ts
var TASK_PATCH = /* @__PURE__ */ new Set(["cluster", "engine", "priority", "attempts", "runs", "not_before", "engine_job_id", "lease_owner", "lease_until", "finished_at"]);
var ATTEMPT_PATCH = /* @__PURE__ */ new Set(["engine_job_id", "state", "started_at", "finished_at", "exit_code", "detail"]);
function newRow(t, seq, actor, now) {
  return {
    seq,
    id: t.id,
    name: t.name,
    kind: t.kind,
    body: t.body,
    clusters: JSON.stringify(t.clusters),
    cluster: t.clusters[0],
    engine: t.engine ?? null,
    priority: t.priority,
    retries: t.retries,
    demand_cores: t.demand.cores,
    demand_memory_mb: t.demand.memoryMb,
    state: "QUEUED",
    attempts: 0,
    runs: 0,
    not_before: 0,
    engine_job_id: null,
    lease_owner: null,
    lease_until: null,
    created_by: actor,
    created_at: now,
    updated_at: now,
    finished_at: null,
    schedule: t.schedule ?? null,
    source: t.source ?? null,
    notify: t.notify ?? null
  };
}
async function deleteTasks(db2, ids) {
  if (ids.length === 0) return { tasks: 0, orphans: [] };
  const marks = ids.map((_, k) => `$${k + 1}`).join(", ");
  const shas = await db2.all(`SELECT DISTINCT sha256 FROM task_files WHERE task_id IN (${marks})`, ids);
  for (const table of ["events", "attempts", "task_files"]) await db2.run(`DELETE FROM ${table} WHERE task_id IN (${marks})`, ids);
  await db2.run(`DELETE FROM tasks WHERE id IN (${marks})`, ids);
  const orphans = [];
  for (const { sha256 } of shas) if (!await isReferenced(db2, sha256)) orphans.push(sha256);
  return { tasks: ids.length, orphans };
}
async function isReferenced(db2, sha256) {
  const rows = await db2.all("SELECT 1 AS x FROM task_files WHERE sha256 = $1 UNION ALL SELECT 1 AS x FROM schedule_files WHERE sha256 = $1 LIMIT 1", [sha256]);
  return rows.length > 0;
}
function setClause(patch, allowed, first) {
  const parts = [];
  const values = [];
  let n = first;
  for (const [k, v] of Object.entries(patch)) {
    if (v === void 0) continue;
    if (!allowed.has(k)) throw new Error(`not a patchable column: ${k}`);
    parts.push(`${k} = $${n++}`);
    values.push(v);
  }
  return { sql: parts.join(", "), values, next: n };
}
function positionSql(cluster, priority, seq) {
  const queued = `SELECT COUNT(*) FROM tasks q WHERE q.state = 'QUEUED' AND q.cluster = ${cluster}`;
  return `((${queued} AND q.priority > ${priority}) + (${queued} AND q.priority = ${priority} AND q.seq < ${seq}))`;
}
var CHUNK = 200;
var WITHOUT_BODY = "seq, id, name, kind, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, state, attempts, runs, not_before, engine_job_id, lease_owner, lease_until, created_by, created_at, updated_at, finished_at, schedule, source, notify";
var TaskStore = class {
  constructor(db2) {
    this.db = db2;
  }
  db;
  async ping() {
    await this.db.all("SELECT 1 AS ok");
  }
  /**
   * Inserts new tasks (QUEUED, with their event and file rows) in one transaction. An id that exists already is
   * not inserted again: its stored task comes back with `created: false`.
   */
  async insertTasks(tasks, actor, now = Date.now(), db2 = this.db) {
    const seqs = /* @__PURE__ */ new Map();
    const existing = await (db2.dialect === "postgres" ? this.insertPostgres(db2, tasks, actor, now, seqs) : this.insertSqlite(db2, tasks, actor, now, seqs));
    return tasks.map((t) => {
      const seq = seqs.get(t.id);
      return seq === void 0 ? { task: existing.get(t.id), created: false } : { task: newRow(t, seq, actor, now), created: true };
    });
  }
  /**
   * PostgreSQL: the tasks, their QUEUED events and their file rows in one statement (atomic by itself: one round
   * trip), the rows as one JSON array of arrays, read as jsonb (parsed once; `->>` on plain json parses the element
   * again for every field: twice the statement's time). New rows are known without reading them back; only ids
   * that existed already are read.
   */
  async insertPostgres(db2, tasks, actor, now, seqs) {
    const rows = tasks.map((t) => [t.id, t.name, t.kind, t.body, JSON.stringify(t.clusters), t.clusters[0], t.engine ?? null, t.priority, t.retries, t.demand.cores, t.demand.memoryMb, t.note ?? null, t.schedule ?? null, t.source ?? null, t.notify ?? null]);
    const files = tasks.flatMap((t) => t.files.map((f) => [t.id, f.name, f.sha256, f.size]));
    const created = await db2.all(
      `WITH input AS (
         SELECT e->>0 AS id, e->>1 AS name, e->>2 AS kind, e->>3 AS body, e->>4 AS clusters, e->>5 AS cluster, e->>6 AS engine,
                (e->>7)::integer AS priority, (e->>8)::integer AS retries, (e->>9)::double precision AS demand_cores,
                (e->>10)::integer AS demand_memory_mb, e->>11 AS note, e->>12 AS schedule, e->>13 AS source, e->>14 AS notify
         FROM jsonb_array_elements($1::jsonb) AS e),
       ins AS (
         INSERT INTO tasks (id, name, kind, body, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, schedule, source, notify, created_by, created_at, updated_at, state, attempts, runs, not_before)
         SELECT id, name, kind, body, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, schedule, source, notify, $2, $3, $3, 'QUEUED', 0, 0, 0 FROM input
         ON CONFLICT (id) DO NOTHING RETURNING id, seq),
       ev AS (
         INSERT INTO events (task_id, at, from_state, to_state, actor, detail)
         SELECT ins.id, $3, NULL, 'QUEUED', $2, input.note FROM ins JOIN input USING (id)),
       fi AS (
         INSERT INTO task_files (task_id, name, sha256, size)
         SELECT f->>0, f->>1, f->>2, (f->>3)::bigint FROM jsonb_array_elements($4::jsonb) AS f JOIN ins ON ins.id = f->>0)
       SELECT id, seq FROM ins`,
      [JSON.stringify(rows), actor, now, JSON.stringify(files)]
    );
    for (const r of created) seqs.set(r.id, Number(r.seq));
    return this.getMany(db2, tasks.filter((t) => !seqs.has(t.id)).map((t) => t.id));
  }
  /** SQLite: multi-row INSERTs in one transaction (an in-process call each: no round trips to save). */
  async insertSqlite(outer, tasks, actor, now, seqs) {
    return outer.tx(async (db2) => {
      const columns = "id, name, kind, body, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, schedule, source, notify, created_by, created_at, updated_at";
      const width = 17;
      for (let i = 0; i < tasks.length; i += CHUNK) {
        const rows = tasks.slice(i, i + CHUNK).map((t) => [t.id, t.name, t.kind, t.body, JSON.stringify(t.clusters), t.clusters[0], t.engine ?? null, t.priority, t.retries, t.demand.cores, t.demand.memoryMb, t.schedule ?? null, t.source ?? null, t.notify ?? null, actor, now, now]);
        const tuples = rows.map((_, r) => `(${Array.from({ length: width }, (_2, k) => `$${r * width + k + 1}`).join(", ")}, 'QUEUED', 0, 0, 0)`);
        const created = await db2.all(`INSERT INTO tasks (${columns}, state, attempts, runs, not_before) VALUES ${tuples.join(", ")} ON CONFLICT (id) DO NOTHING RETURNING id, seq`, rows.flat());
        for (const r of created) seqs.set(r.id, Number(r.seq));
      }
      const fresh = tasks.filter((t) => seqs.has(t.id));
      await this.insertMany(db2, "events (task_id, at, from_state, to_state, actor, detail)", 6, fresh.map((t) => [t.id, now, null, "QUEUED", actor, t.note ?? null]));
      await this.insertMany(db2, "task_files (task_id, name, sha256, size)", 4, fresh.flatMap((t) => t.files.map((f) => [t.id, f.name, f.sha256, f.size])));
      return this.getMany(db2, tasks.filter((t) => !seqs.has(t.id)).map((t) => t.id));
    });
  }
  /** Many rows in multi-row INSERTs (SQLite). */
  async insertMany(db2, into, width, rows) {
    const per = Math.max(1, Math.floor(CHUNK * 8 / width));
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const tuples = chunk.map((_, r) => `(${Array.from({ length: width }, (_2, k) => `$${r * width + k + 1}`).join(", ")})`);
      await db2.run(`INSERT INTO ${into} VALUES ${tuples.join(", ")}`, chunk.flat());
    }
  }
  async getMany(db2, ids) {
    const out = /* @__PURE__ */ new Map();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      const rows = await db2.all(`SELECT * FROM tasks WHERE id IN (${chunk.map((_, k) => `$${k + 1}`).join(", ")})`, chunk);
      for (const r of rows) out.set(r.id, r);
    }
    return out;
  }
  /** The states of these tasks (one query); a task that is gone is left out. */
  async states(ids) {
    const rows = await this.getMany(this.db, ids);
    return new Map([...rows].map(([id, t]) => [id, t.state]));
  }
  async get(id) {
    return (await this.db.all("SELECT * FROM tasks WHERE id = $1", [id]))[0];
  }
  async attempts(id) {
    return this.db.all("SELECT * FROM attempts WHERE task_id = $1 ORDER BY n", [id]);
  }
  async events(id) {
    return this.db.all("SELECT * FROM events WHERE task_id = $1 ORDER BY id", [id]);
  }
  async files(id) {
    return this.db.all("SELECT name, sha256, size FROM task_files WHERE task_id = $1 ORDER BY name", [id]);
  }
  /** Newest first; the cursor is the last row's seq. */
  async list(f) {
    const where = [];
    const values = [];
    const add = (sql, v) => {
      values.push(v);
      where.push(sql.replace("?", `$${values.length}`));
    };
    if (f.state) add("state = ?", f.state);
    if (f.cluster) add("cluster = ?", f.cluster);
    if (f.name) add("name LIKE ? ESCAPE '\\'", `%${f.name.replace(/[\\%_]/g, (c2) => `\\${c2}`)}%`);
    if (f.since !== void 0) add("created_at >= ?", f.since);
    if (f.cursor !== void 0) add("seq < ?", f.cursor);
    values.push(f.limit);
    return this.db.all(`SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT $${values.length}`, values);
  }
  /** How many queued tasks for the same first-choice cluster come before this one (0: it is next). */
  async position(task) {
    const rows = await this.db.all(`SELECT ${positionSql("$1", "$2", "$3")} AS n`, [task.cluster, task.priority, task.seq]);
    return Number(rows[0]?.n ?? 0);
  }
  /**
   * A task with what GET /task shows: its attempts, its files and, while it is queued, its position. PostgreSQL:
   * one statement (one round trip, one snapshot); SQLite: the same reads one by one (in-process calls).
   */
  async detail(id) {
    if (this.db.dialect === "postgres") {
      const rows = await this.db.all(
        `SELECT t.*,
           (SELECT COALESCE(json_agg(a ORDER BY a.n), '[]'::json) FROM attempts a WHERE a.task_id = t.id) AS detail_attempts,
           (SELECT COALESCE(json_agg(json_build_object('name', f.name, 'sha256', f.sha256, 'size', f.size) ORDER BY f.name), '[]'::json) FROM task_files f WHERE f.task_id = t.id) AS detail_files,
           CASE WHEN t.state = 'QUEUED' THEN ${positionSql("t.cluster", "t.priority", "t.seq")} END AS detail_position
         FROM tasks t WHERE t.id = $1`,
        [id]
      );
      const row = rows[0];
      if (!row) return void 0;
      const { detail_attempts: attempts2, detail_files: files2, detail_position: position, ...task2 } = row;
      return { task: task2, attempts: attempts2, files: files2, ...position === null ? {} : { position: Number(position) } };
    }
    const task = await this.get(id);
    if (!task) return void 0;
    const [attempts, files] = await Promise.all([this.attempts(id), this.files(id)]);
    return { task, attempts, files, ...task.state === "QUEUED" ? { position: await this.position(task) } : {} };
  }
  /** Compare-and-set a task's state, with its event rows, in one transaction; false when the task was not in `from`. */
  async move(id, m) {
    return this.db.tx((db2) => this.moveIn(db2, id, m));
  }
  async moveIn(db2, id, m) {
    const now = m.now ?? Date.now();
    const path = typeof m.to === "string" ? [m.to] : [...m.to];
    const details = typeof m.detail === "string" || m.detail === void 0 ? [m.detail] : [...m.detail];
    const final = path[path.length - 1];
    for (const f of m.from) if (!canMove(f, path[0])) throw new Error(`no move from ${f} to ${path[0]}`);
    for (let i = 1; i < path.length; i++) if (!canMove(path[i - 1], path[i])) throw new Error(`no move from ${path[i - 1]} to ${path[i]}`);
    const set = setClause({ ...m.patch }, TASK_PATCH, 4);
    const values = [final, now, id, ...set.values];
    let sql = `UPDATE tasks SET state = $1, updated_at = $2${set.sql ? `, ${set.sql}` : ""} WHERE id = $3 AND state IN (${m.from.map((_, k) => `$${set.next + k}`).join(", ")})`;
    values.push(...m.from);
    if (m.attempt !== void 0) {
      values.push(m.attempt);
      sql += ` AND attempts = $${values.length}`;
    }
    const before = await db2.all(`SELECT state, notify FROM tasks WHERE id = $1${db2.dialect === "postgres" ? " FOR UPDATE" : ""}`, [id]);
    const changed = await db2.run(sql, values);
    if (changed === 0) return false;
    let from = before[0]?.state ?? null;
    const notify = before[0]?.notify ? JSON.parse(before[0].notify) : void 0;
    for (const [i, to] of path.entries()) {
      await db2.run("INSERT INTO events (task_id, at, from_state, to_state, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)", [id, now, from, to, m.actor, details[i] ?? null]);
      const event = eventOfState(to);
      if (notify && event && notify.on.includes(event)) {
        await db2.run("INSERT INTO notifications (task_id, event, state, detail, url, at, attempts, next_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $6)", [id, event, to, details[i] ?? null, notify.url, now]);
      }
      from = to;
    }
    if (m.attemptPatch && m.attempt !== void 0) await this.patchAttemptIn(db2, id, m.attempt, m.attemptPatch);
    return true;
  }
  /** An event that changes no state (a priority change, a note). */
  async note(id, state, actor, detail, db2 = this.db) {
    await db2.run("INSERT INTO events (task_id, at, from_state, to_state, actor, detail) VALUES ($1, $2, $3, $3, $4, $5)", [id, Date.now(), state, actor, detail]);
  }
  async patchAttempt(id, n, patch) {
    await this.patchAttemptIn(this.db, id, n, patch);
  }
  async patchAttemptIn(db2, id, n, patch) {
    const set = setClause({ ...patch }, ATTEMPT_PATCH, 3);
    if (!set.sql) return;
    await db2.run(`UPDATE attempts SET ${set.sql} WHERE task_id = $1 AND n = $2`, [id, n, ...set.values]);
  }
  /** Changes a task's priority (while it has not finished), with its event. */
  async setPriority(id, priority, actor) {
    return this.db.tx(async (db2) => {
      const task = (await db2.all("SELECT * FROM tasks WHERE id = $1", [id]))[0];
      if (!task) return void 0;
      if (task.priority === priority) return task;
      await db2.run("UPDATE tasks SET priority = $1, updated_at = $2 WHERE id = $3", [priority, Date.now(), id]);
      await this.note(id, task.state, actor, `priority ${task.priority} -> ${priority}`, db2);
      return { ...task, priority };
    });
  }
  /**
   * The dispatcher's step, in one exclusive transaction (one server at a time): reads the ready queue and every
   * active task, lets `decide` pick, and marks each pick SUBMITTED with a new attempt row, a lease and its event.
   * `engineName` gives the name the attempt's job gets on its engine.
   */
  async claim(opts) {
    return this.db.tx(async (db2) => {
      const queued = await db2.all(
        "SELECT seq, id, clusters, priority, demand_cores, demand_memory_mb FROM tasks WHERE state = 'QUEUED' AND not_before <= $1 ORDER BY priority DESC, seq ASC LIMIT $2",
        [opts.now, opts.limit]
      );
      if (queued.length === 0) return [];
      const active = await db2.all("SELECT id, cluster, demand_cores, demand_memory_mb FROM tasks WHERE state IN ('SUBMITTED', 'RUNNING')");
      const picks = opts.decide({ queued, active });
      const queuedIds = new Set(queued.map((t) => t.id));
      const byId = await this.getMany(db2, picks.map((p) => p.id).filter((id) => queuedIds.has(id)));
      const claimed = [];
      for (const pick of picks) {
        const task = byId.get(pick.id);
        if (!task) continue;
        const n = task.attempts + 1;
        const engineName = pick.engineName(task, n);
        const moved = await this.moveIn(db2, task.id, {
          from: ["QUEUED"],
          to: "SUBMITTED",
          actor: opts.actor,
          detail: `attempt ${n} on ${pick.cluster} (server ${opts.owner})`,
          now: opts.now,
          patch: { attempts: n, cluster: pick.cluster, engine: pick.engine, engine_job_id: null, lease_owner: opts.owner, lease_until: opts.now + opts.leaseMs }
        });
        if (!moved) continue;
        const attempt = { task_id: task.id, n, cluster: pick.cluster, engine: pick.engine, engine_name: engineName, engine_job_id: null, state: "SUBMITTING", submitted_at: opts.now, started_at: null, finished_at: null, exit_code: null, detail: null };
        await db2.run("INSERT INTO attempts (task_id, n, cluster, engine, engine_name, engine_job_id, state, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", [
          attempt.task_id,
          attempt.n,
          attempt.cluster,
          attempt.engine,
          attempt.engine_name,
          null,
          attempt.state,
          attempt.submitted_at
        ]);
        claimed.push({ task: { ...task, state: "SUBMITTED", attempts: n, cluster: pick.cluster, engine: pick.engine, engine_job_id: null, lease_owner: opts.owner, lease_until: opts.now + opts.leaseMs }, attempt });
      }
      return claimed;
    }, { exclusive: true });
  }
  /**
   * The engine accepted the attempt as job `engineJobId`: recorded with the run it counts as. False when the task
   * moved on meanwhile (killed while its submission was in flight): the caller kills that job.
   */
  async recordSubmitted(id, n, engineJobId, actor, now = Date.now()) {
    return this.db.tx(async (db2) => {
      const changed = await db2.run(
        "UPDATE tasks SET engine_job_id = $1, runs = runs + 1, lease_owner = NULL, lease_until = NULL, updated_at = $2 WHERE id = $3 AND attempts = $4 AND state = 'SUBMITTED' AND engine_job_id IS NULL",
        [engineJobId, now, id, n]
      );
      if (changed === 0) {
        const now2 = (await db2.all("SELECT * FROM tasks WHERE id = $1", [id]))[0];
        if (now2 && now2.attempts === n && now2.engine_job_id === engineJobId) return true;
        await this.patchAttemptIn(db2, id, n, { engine_job_id: engineJobId, state: "KILLED", detail: "the task was cancelled while its submission was in flight" });
        return false;
      }
      await this.patchAttemptIn(db2, id, n, { engine_job_id: engineJobId, state: "SUBMITTED" });
      await this.note(id, "SUBMITTED", actor, `attempt ${n}: accepted by the engine as ${engineJobId}`, db2);
      return true;
    });
  }
  /**
   * Submissions whose server stopped renewing their lease (it crashed mid-submission): each is taken over by
   * `owner` (compare-and-set on the lease), to be looked up on its engine by name.
   */
  async takeOverExpired(owner, now, leaseMs) {
    const expired = await this.db.all("SELECT * FROM tasks WHERE state = 'SUBMITTED' AND engine_job_id IS NULL AND lease_until < $1", [now]);
    const mine = [];
    for (const t of expired) {
      const ok = await this.db.run("UPDATE tasks SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND state = 'SUBMITTED' AND engine_job_id IS NULL AND lease_until = $4", [owner, now + leaseMs, t.id, t.lease_until]);
      if (ok === 1) mine.push({ ...t, lease_owner: owner, lease_until: now + leaseMs });
    }
    return mine;
  }
  async countAttempts(id, state) {
    const rows = await this.db.all("SELECT COUNT(*) AS n FROM attempts WHERE task_id = $1 AND state = $2", [id, state]);
    return Number(rows[0]?.n ?? 0);
  }
  /** The engine job of the task's latest attempt that reached an engine (a native jobfile's rerun starts from it). */
  async lastEngineJob(id) {
    const rows = await this.db.all("SELECT engine_job_id FROM attempts WHERE task_id = $1 AND engine_job_id IS NOT NULL ORDER BY n DESC LIMIT 1", [id]);
    return rows[0]?.engine_job_id;
  }
  /** Keeps this server's in-flight submissions leased (a crashed server's leases run out). */
  async renewLeases(owner, until) {
    await this.db.run("UPDATE tasks SET lease_until = $1 WHERE lease_owner = $2 AND state = 'SUBMITTED' AND engine_job_id IS NULL", [until, owner]);
  }
  /** Active tasks: submitted or running. */
  async active() {
    return this.db.all("SELECT * FROM tasks WHERE state IN ('SUBMITTED', 'RUNNING') ORDER BY seq");
  }
  async attempt(id, n) {
    return (await this.db.all("SELECT * FROM attempts WHERE task_id = $1 AND n = $2", [id, n]))[0];
  }
  /** Counts per state (all tasks). */
  async countByState() {
    return this.db.all("SELECT state, COUNT(*) AS n FROM tasks GROUP BY state");
  }
  /** Queued tasks by first-choice cluster and priority, with the oldest one's creation time. */
  async queueDepth() {
    return this.db.all("SELECT cluster, priority, COUNT(*) AS n, MIN(created_at) AS oldest FROM tasks WHERE state = 'QUEUED' GROUP BY cluster, priority ORDER BY cluster, priority DESC");
  }
  async activeByCluster() {
    return this.db.all("SELECT cluster, state, COUNT(*) AS n FROM tasks WHERE state IN ('QUEUED', 'SUBMITTED', 'RUNNING') GROUP BY cluster, state");
  }
  /**
   * Deletes finished tasks older than `before` with their attempts, events and file references; returns the
   * content hashes no task references any more (their files can go).
   */
  async purge(before, limit = 1e3) {
    return this.db.tx(async (db2) => {
      const old = await db2.all("SELECT id FROM tasks WHERE state IN ('SUCCEEDED', 'KILLED', 'DEAD') AND finished_at < $1 ORDER BY finished_at LIMIT $2", [before, limit]);
      return deleteTasks(db2, old.map((r) => r.id));
    });
  }
  /** Deletes a finished task with its history; false when it is not finished (or gone). */
  async deleteFinished(id) {
    return this.db.tx(async (db2) => {
      const rows = await db2.all("SELECT id FROM tasks WHERE id = $1 AND state IN ('SUCCEEDED', 'KILLED', 'DEAD')", [id]);
      if (rows.length === 0) return { deleted: false, orphans: [] };
      return { deleted: true, orphans: (await deleteTasks(db2, [id])).orphans };
    });
  }
  /** Finished runs of a schedule beyond its newest `keep`, deleted with their history. */
  async pruneScheduleRuns(schedule, keep) {
    return this.db.tx(async (db2) => {
      const old = await db2.all(
        "SELECT id FROM tasks WHERE schedule = $1 AND state IN ('SUCCEEDED', 'KILLED', 'DEAD') ORDER BY seq DESC LIMIT 1000 OFFSET $2",
        [schedule, keep]
      );
      return deleteTasks(db2, old.map((r) => r.id));
    });
  }
  /** The newest tasks of a schedule (its runs), newest first. */
  async scheduleRuns(schedule, limit) {
    return this.db.all(`SELECT ${WITHOUT_BODY} FROM tasks WHERE schedule = $1 ORDER BY seq DESC LIMIT $2`, [schedule, limit]);
  }
  /** Whether any task or schedule still references this content (an upload of a refused request may then go). */
  async referenced(sha256) {
    return isReferenced(this.db, sha256);
  }
  // ---- API keys -------------------------------------------------------------------------------------------------
  async createKey(row) {
    return await this.db.run("INSERT INTO api_keys (name, scope, hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING", [row.name, row.scope, row.hash, row.created_at]) === 1;
  }
  async keyByHash(hash) {
    return (await this.db.all("SELECT * FROM api_keys WHERE hash = $1", [hash]))[0];
  }
  async listKeys() {
    return this.db.all("SELECT * FROM api_keys ORDER BY name");
  }
  async revokeKey(name, now = Date.now()) {
    return await this.db.run("UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL", [now, name]) === 1;
  }
};

// src/serve/task-input.ts
import { z as z3 } from "zod";

// src/jobs/spec.ts
init_errors();
import { posix } from "node:path";
import { z as z2 } from "zod";
var JOB_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
var JAVA_CLASS_RE = /^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*$/;
var SPARK_PROPERTY_RE = /^spark\.[A-Za-z0-9_.-]+$/;
var ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
var MEMORY_RE = /^\d+[kmgt]?$/i;
function isUrl(s) {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}
function isHttpUrl(s) {
  return /^https?:\/\//i.test(s);
}
function fileNameOf(app) {
  if (isUrl(app)) {
    try {
      const last = new URL(app).pathname.split("/").pop() ?? "";
      try {
        return decodeURIComponent(last);
      } catch {
        return last;
      }
    } catch {
      return "";
    }
  }
  return posix.basename(app.replace(/\\/g, "/"));
}
function appExtension(app) {
  const m = /\.(jar|py)$/i.exec(fileNameOf(app));
  return m ? `.${m[1].toLowerCase()}` : void 0;
}
function defaultJobName(app) {
  const stem = fileNameOf(app).replace(/\.(jar|py)$/i, "");
  const name = stem.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 63).replace(/[-.]+$/, "");
  return name.length > 0 ? name : "job";
}
var RESERVED_CONF = {
  "spark.master": "set by cms to the cluster's master",
  "spark.submit.deployMode": "chosen by the engine (cluster for a .jar, client for a .py)",
  "spark.app.name": "set from the name field",
  "spark.jars": "use the jars field (its local files are uploaded)",
  "spark.files": "use the files field (its local files are uploaded)",
  "spark.submit.pyFiles": "use the pyFiles field (its local files are uploaded)"
};
var typeMsg = (what) => (iss) => iss.input === void 0 ? "required" : `expected ${what}, got ${describe(iss.input)}`;
function describe(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `a string`;
  return `${typeof v} ${String(v)}`;
}
var str = (what = "a string") => z2.string({ error: typeMsg(what) });
var scalarString = (what) => z2.union([z2.string(), z2.number(), z2.boolean()], { error: typeMsg(what) }).transform((v) => String(v));
var location = str("a path or URL").min(1, { error: "must not be empty" }).refine((s) => !s.includes("\0"), { error: "must not contain NUL" }).refine((s) => !s.includes(","), { error: "must not contain a comma (Spark joins these lists with commas)" });
var positiveInt = () => z2.number({ error: typeMsg("a whole number \u2265 1") }).int({ error: "expected a whole number \u2265 1" }).min(1, { error: "expected a whole number \u2265 1" });
var memory = str("a size like 512m or 2g").regex(MEMORY_RE, { error: "expected a size like 512m or 2g (digits, then k, m, g or t; no unit means MiB)" });
var driverSchema = z2.strictObject(
  {
    cores: positiveInt().optional(),
    memory: memory.optional()
  },
  { error: typeMsg("a mapping with cores and memory") }
);
var executorSchema = z2.strictObject(
  {
    cores: positiveInt().optional(),
    memory: memory.optional(),
    instances: positiveInt().optional()
  },
  { error: typeMsg("a mapping with cores, memory and instances") }
);
var boundedInt = (lo, hi) => {
  const msg = `expected a whole number from ${lo} to ${hi}`;
  return z2.number({ error: typeMsg(`a whole number from ${lo} to ${hi}`) }).int({ error: msg }).min(lo, { error: msg }).max(hi, { error: msg });
};
function checkedRecord(re, keyMsg, value, what) {
  return z2.record(z2.string(), value, { error: typeMsg(what) }).superRefine((rec, ctx) => {
    for (const key of Object.keys(rec)) if (!re.test(key)) ctx.addIssue({ code: "custom", path: [key], message: keyMsg, input: key });
  });
}
var FIELDS = ["name", "app", "mainClass", "args", "conf", "jars", "pyFiles", "files", "env", "driver", "executor", "priority", "retries", "volumes"];
var DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
var absolutePath = str("an absolute path").regex(/^\/[^\0\s,:]*$/, { error: "must be an absolute path (no spaces, commas or colons)" }).refine((p) => !p.split("/").includes(".."), { error: "must not contain .." });
var volumeSchema = z2.strictObject(
  {
    name: str().regex(DNS_LABEL_RE, { error: 'must be 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit' }),
    mount: absolutePath,
    hostPath: absolutePath.optional(),
    pvc: str("a claim name").regex(DNS_LABEL_RE, { error: 'must be a claim name: 1-63 lowercase letters, digits or "-"' }).optional(),
    emptyDir: z2.literal(true, { error: "expected true" }).optional(),
    readOnly: z2.boolean({ error: typeMsg("true or false") }).default(false)
  },
  { error: typeMsg("a mapping with name, mount and one of hostPath, pvc or emptyDir") }
).superRefine((v, ctx) => {
  const kinds = ["hostPath", "pvc", "emptyDir"].filter((k) => v[k] !== void 0);
  if (kinds.length !== 1) ctx.addIssue({ code: "custom", path: [], message: `needs exactly one of hostPath, pvc or emptyDir${kinds.length > 1 ? ` (got ${kinds.join(" and ")})` : ""}` });
});
var baseSchema = z2.strictObject(
  {
    name: str().regex(JOB_NAME_RE, { error: 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit' }).optional(),
    app: str("a path or URL of a .jar or .py").min(1, { error: "must not be empty" }).refine((s) => !isUrl(s) || isHttpUrl(s), { error: "must be a local path or an http(s) URL" }).refine((s) => appExtension(s) !== void 0, { error: "must be a .jar or .py file" }),
    mainClass: str("a Java class name").regex(JAVA_CLASS_RE, { error: "must be a Java class name like com.example.Main (use $ for a nested class)" }).optional(),
    args: z2.array(z2.union([z2.string(), z2.number()], { error: typeMsg("a string") }).transform((v) => String(v)), { error: typeMsg("a list of strings") }).default([]),
    conf: checkedRecord(SPARK_PROPERTY_RE, "keys must be Spark properties like spark.executor.memory", scalarString("a string, number or boolean"), "a mapping of Spark properties").default({}),
    jars: z2.array(location, { error: typeMsg("a list of paths or URLs") }).default([]),
    pyFiles: z2.array(location, { error: typeMsg("a list of paths or URLs") }).default([]),
    files: z2.array(location, { error: typeMsg("a list of paths or URLs") }).default([]),
    env: checkedRecord(ENV_NAME_RE, "keys must be environment variable names like MY_VAR", scalarString("a string"), "a mapping of environment variables").default({}),
    driver: driverSchema.default({}),
    executor: executorSchema.default({}),
    priority: boundedInt(0, 1e3).default(0),
    retries: boundedInt(0, 10).default(0),
    volumes: z2.array(volumeSchema, { error: typeMsg("a list of volumes") }).default([])
  },
  { error: (iss) => iss.input === void 0 || iss.input === null ? "the job spec is empty" : `expected a mapping of job fields, got ${describe(iss.input)}` }
);
function crossCheck(v, ctx) {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return;
  const spec = v;
  const app = typeof spec.app === "string" ? spec.app : void 0;
  const ext = app ? appExtension(app) : void 0;
  if (ext === ".jar" && spec.mainClass === void 0) ctx.addIssue({ code: "custom", path: ["mainClass"], message: "required for a .jar app" });
  if (ext === ".py" && spec.mainClass !== void 0) ctx.addIssue({ code: "custom", path: ["mainClass"], message: "only for a .jar app (a .py app has no main class)" });
  if (ext === ".jar" && Array.isArray(spec.pyFiles) && spec.pyFiles.length > 0) ctx.addIssue({ code: "custom", path: ["pyFiles"], message: "only for a .py app" });
  if (Array.isArray(spec.volumes)) {
    const seen = { name: /* @__PURE__ */ new Set(), mount: /* @__PURE__ */ new Set() };
    for (const [i, vol] of spec.volumes.entries()) {
      for (const key of ["name", "mount"]) {
        if (vol?.[key] !== void 0 && seen[key].has(vol[key])) ctx.addIssue({ code: "custom", path: ["volumes", i, key], message: `${String(vol[key])} is used by an earlier volume` });
        seen[key].add(vol?.[key]);
      }
    }
  }
  if (spec.conf && typeof spec.conf === "object") {
    for (const key of Object.keys(spec.conf)) {
      const why = RESERVED_CONF[key];
      if (why) ctx.addIssue({ code: "custom", path: ["conf", key], message: why });
    }
  }
}
var jobSpecSchema = baseSchema.superRefine((v, ctx) => crossCheck(v, ctx), { when: () => true }).transform((v) => ({ ...v, name: v.name ?? defaultJobName(v.app) }));
function formatPath(path) {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const s = String(seg);
      const part = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s) ? s : JSON.stringify(s);
      out += out ? `.${part}` : part;
    }
  }
  return out;
}
function closest(word, candidates) {
  let best;
  let bestD = Infinity;
  for (const c2 of candidates) {
    const d = editDistance(word.toLowerCase(), c2.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c2;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : void 0;
}
function editDistance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
var NESTED_FIELDS = { driver: ["cores", "memory"], executor: ["cores", "memory", "instances"] };
function formatIssues(issues, rename = {}) {
  const out = [];
  for (const iss of issues) {
    if (iss.code === "unrecognized_keys") {
      const known = iss.path.length === 0 ? FIELDS : NESTED_FIELDS[String(iss.path[0])] ?? [];
      for (const key of iss.keys) {
        const guess = closest(key, known);
        out.push(`${formatPath([...iss.path, key])}: unknown field${guess ? ` (did you mean ${guess}?)` : ` (known: ${known.join(", ")})`}`);
      }
      continue;
    }
    const where = formatPath(iss.path);
    const label = rename[where] ?? where;
    out.push(label ? `${label}: ${iss.message}` : iss.message);
  }
  return [...new Set(out)];
}
function parseJobSpec(input, source, rename) {
  const result = jobSpecSchema.safeParse(input);
  if (result.success) return result.data;
  throw new UsageError(`${source}: ${formatIssues(result.error.issues, rename).join("; ")}`);
}

// src/serve/task-input.ts
init_errors();

// src/cluster/names.ts
init_errors();
var CLUSTER_NAME_RE = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

// src/jobs/kubernetes-translate.ts
init_errors();

// src/jobs/s3.ts
init_errors();

// src/jobs/volumes.ts
init_errors();

// src/jobs/kubernetes-translate.ts
var SPARK_SERVICE_ACCOUNT = "cms-spark";
var MAX_LOCAL_FILES_BYTES = 1 << 20;
var KUBERNETES_RESERVED_CONF = {
  "spark.driver.host": "set by cms to the driver pod's IP",
  "spark.driver.bindAddress": "set by cms to the driver pod's IP",
  "spark.kubernetes.driver.pod.name": "set by cms to the driver pod's name",
  "spark.kubernetes.authenticate.driver.serviceAccountName": `set by cms (${SPARK_SERVICE_ACCOUNT}, with the Role the driver needs)`
};

// src/serve/queue/capacity.ts
function memoryMb2(size, fallbackMb) {
  if (size === void 0) return fallbackMb;
  const m = /^(\d+)([kmgt]?)$/i.exec(size.trim());
  if (!m) return fallbackMb;
  const n = Number(m[1]);
  switch (m[2].toLowerCase()) {
    case "k":
      return Math.ceil(n / 1024);
    case "g":
      return n * 1024;
    case "t":
      return n * 1024 * 1024;
    default:
      return n;
  }
}

// src/serve/task-input.ts
var TASK_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
var JOBFILE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\.(hcl|nomad|json|ya?ml)$/i;
var MAX_JOBFILE_BYTES = 1024 * 1024;
var MAX_CLUSTERS = 5;
var clusterName = z3.string({ error: "expected a cluster name" }).regex(CLUSTER_NAME_RE, { error: "must be a cluster name: 2-32 lowercase letters, digits and single hyphens, starting with a letter" }).refine((s) => !s.includes("--"), { error: "must be a cluster name: single hyphens only" });
var clusterRef = z3.union([clusterName, z3.array(clusterName).min(1, { error: "must name at least one cluster" }).max(MAX_CLUSTERS, { error: `at most ${MAX_CLUSTERS} clusters` })], {
  // zod fails an over-long list before its elements (an aborted issue), so the union reports it with this message.
  error: (iss) => iss.input === void 0 ? "required" : Array.isArray(iss.input) && iss.input.length > MAX_CLUSTERS ? `at most ${MAX_CLUSTERS} clusters` : "expected a cluster name or a list of them (the first healthy one is used)"
});
var wholeNumber = (lo, hi) => z3.int({ error: `expected a whole number from ${lo} to ${hi}` }).min(lo, { error: `expected a whole number from ${lo} to ${hi}` }).max(hi, { error: `expected a whole number from ${lo} to ${hi}` });
var taskId = z3.string().regex(TASK_ID_RE, { error: 'must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit' });
var resourcesSchema = z3.strictObject({
  cores: z3.number({ error: "expected a number of cores" }).positive({ error: "expected a number of cores > 0" }).max(1e5),
  memory: z3.string().regex(/^\d+[kmgt]?$/i, { error: "expected a size like 512m or 2g" })
}, { error: "expected {cores, memory}" });
var taskSchema = z3.strictObject({
  id: taskId.optional(),
  cluster: clusterRef,
  spec: z3.record(z3.string(), z3.unknown(), { error: "expected a job spec (a JSON object)" }).optional(),
  jobfile: z3.strictObject({
    name: z3.string().regex(JOBFILE_NAME_RE, { error: "expected a file name ending in .hcl, .nomad, .json, .yaml or .yml" }),
    content: z3.string().max(MAX_JOBFILE_BYTES, { error: `longer than ${MAX_JOBFILE_BYTES} bytes` })
  }, { error: "expected {name, content}" }).optional(),
  priority: wholeNumber(0, 1e3).optional(),
  retries: wholeNumber(0, 10).optional(),
  /** What the task takes while it runs, for admission (native jobfiles; a spec's own figures otherwise). */
  resources: resourcesSchema.optional(),
  /** A webhook called when the task fails an attempt or ends. */
  notify: notifySchema.optional()
});
var classicTaskSchema = z3.strictObject({
  jobId: taskId,
  jobType: z3.literal("SparkApp", { error: "only SparkApp is supported" }),
  sparkAppPath: z3.string({ error: "expected the app's path or URL" }),
  mainClass: z3.string().optional(),
  parameters: z3.union([z3.array(z3.union([z3.string(), z3.number()])), z3.record(z3.string(), z3.union([z3.string(), z3.number(), z3.boolean()]))], { error: "expected a list of arguments or a mapping of options" }).optional(),
  dependencies: z3.array(z3.string(), { error: "expected a list of paths or URLs" }).optional(),
  cluster: clusterRef.optional(),
  priority: wholeNumber(0, 1e3).optional(),
  retries: wholeNumber(0, 10).optional()
});
var TASK_FIELDS = Object.keys(taskSchema.shape);
var CLASSIC_FIELDS = Object.keys(classicTaskSchema.shape);
function issuesLine(prefix, issues, known) {
  const lines = issues.map((iss) => {
    const where = [prefix, ...iss.path.map(String)].filter(Boolean).join(".");
    if (iss.code === "unrecognized_keys") return iss.keys.map((k) => `${[where, k].filter(Boolean).join(".")}: unknown field (known: ${known.join(", ")})`).join("; ");
    return `${where || "body"}: ${iss.message}`;
  });
  return [...new Set(lines)].join("; ");
}
function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function classicToTask(raw, defaultCluster) {
  const params = raw.parameters;
  const args = Array.isArray(params) ? params.map(String) : params ? Object.entries(params).flatMap(([k, v]) => [k.startsWith("-") ? k : `--${k}`, String(v)]) : [];
  const deps = raw.dependencies ?? [];
  const spec = { app: raw.sparkAppPath, args };
  if (raw.mainClass !== void 0) spec.mainClass = raw.mainClass;
  const path = (d) => isUrl(d) ? d.replace(/[?#].*$/, "") : d;
  const jars = deps.filter((d) => /\.jar$/i.test(path(d)));
  const pyFiles = deps.filter((d) => /\.(py|zip|egg)$/i.test(path(d)));
  const other = deps.filter((d) => !jars.includes(d) && !pyFiles.includes(d));
  if (jars.length) spec.jars = jars;
  if (pyFiles.length) spec.pyFiles = pyFiles;
  if (other.length) spec.files = other;
  const cluster = raw.cluster ?? defaultCluster;
  return { id: raw.jobId, cluster, spec, ...raw.priority !== void 0 ? { priority: raw.priority } : {}, ...raw.retries !== void 0 ? { retries: raw.retries } : {} };
}
function parseTask(raw, opts = {}) {
  const where = opts.where ?? "";
  const at = (field) => [where, field].filter(Boolean).join(".");
  if (!isObject(raw)) throw new UsageError(`${where || "body"}: expected a task (a JSON object)`);
  if ("jobType" in raw || "jobId" in raw && !("spec" in raw) && !("jobfile" in raw)) {
    const classic = classicTaskSchema.safeParse(raw);
    if (!classic.success) throw new UsageError(issuesLine(where, classic.error.issues, CLASSIC_FIELDS));
    if (!classic.data.cluster && !opts.defaultCluster) throw new UsageError(`${at("cluster")}: required (or start cms serve with --default-cluster)`);
    raw = classicToTask(classic.data, opts.defaultCluster);
  }
  const parsed = taskSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(issuesLine(where, parsed.error.issues, TASK_FIELDS));
  const t = parsed.data;
  const clusters = typeof t.cluster === "string" ? [t.cluster] : [...new Set(t.cluster)];
  if (t.spec === void 0 === (t.jobfile === void 0)) throw new UsageError(`${where || "body"}: give either spec (a portable job spec) or jobfile ({name, content}), not ${t.spec ? "both" : "neither"}`);
  const uploads = opts.uploads ?? /* @__PURE__ */ new Map();
  const notify = t.notify ? { url: t.notify.url, on: t.notify.on ? [...new Set(t.notify.on)] : DEFAULT_NOTIFY_ON } : void 0;
  const demandOverride = t.resources ? { cores: t.resources.cores, memoryMb: memoryMb2(t.resources.memory, 0) } : void 0;
  if (t.jobfile) {
    if (uploads.size > 0) throw new UsageError(`${at("files")}: a jobfile task takes no uploaded files (${[...uploads.keys()].join(", ")})`);
    return { id: t.id, clusters, name: t.jobfile.name.replace(/\.[^.]+$/, ""), kind: "jobfile", jobfile: t.jobfile, priority: t.priority ?? 0, retries: t.retries ?? 0, demand: demandOverride, files: [], notify };
  }
  const spec = parseJobSpec(t.spec, at("spec"));
  const files = specFiles(spec, uploads, at("spec"));
  return {
    id: t.id,
    clusters,
    name: spec.name,
    kind: "spec",
    spec: { ...spec, retries: 0 },
    priority: t.priority ?? spec.priority,
    retries: t.retries ?? spec.retries,
    demand: demandOverride,
    files,
    notify
  };
}
function specFiles(spec, uploads, at) {
  const used = /* @__PURE__ */ new Map();
  const problems = [];
  const check = (field, p) => {
    if (isUrl(p)) return;
    const ref = uploads.get(p);
    if (ref) used.set(p, ref);
    else problems.push(p.includes("/") ? `${field}: ${p}: name an uploaded file by its file name, or give a URL` : `${field}: ${p} was not uploaded (send it as a file part)`);
  };
  check("app", spec.app);
  spec.jars.forEach((p, i) => check(`jars[${i}]`, p));
  spec.pyFiles.forEach((p, i) => check(`pyFiles[${i}]`, p));
  spec.files.forEach((p, i) => check(`files[${i}]`, p));
  for (const name of uploads.keys()) if (!used.has(name)) problems.push(`${name}: uploaded but not named by the spec`);
  if (problems.length > 0) throw new UsageError(`${at}: ${problems.join("; ")}`);
  return [...used.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// ../../tmp/dbt.ts
import pg2 from "pg";
var base = process.env.PG;
var c = new pg2.Client({ connectionString: base });
await c.connect();
await c.query("DROP SCHEMA IF EXISTS dbt CASCADE");
await c.query("CREATE SCHEMA dbt");
await c.end();
var db = await openDb(base + "?options=-c%20search_path%3Ddbt");
await migrate(db);
var store = new TaskStore(db);
var SPEC = { name: "pi", app: "https://example.invalid/pi.py", args: ["2"], executor: { instances: 1, cores: 1, memory: "512m" } };
var batches = [];
for (let b = 0; b < 20; b++) batches.push(Array.from({ length: 500 }, (_, k) => {
  const p = parseTask({ id: `x-${b}-${k}`, cluster: "abcq", spec: SPEC, resources: { cores: 1e5, memory: "1g" } });
  return { id: p.id, name: p.name, kind: p.kind, body: JSON.stringify(p.spec), clusters: p.clusters, engine: "spark", priority: 0, retries: 0, demand: p.demand, files: [] };
}));
var t0 = performance.now();
var ts = [];
for (const b of batches) {
  const t = performance.now();
  await store.insertTasks(b, "bench");
  ts.push(performance.now() - t);
}
console.log("total", (performance.now() - t0).toFixed(0), "per batch", ts.map((x) => x.toFixed(1)).join(" "));
await db.close();
