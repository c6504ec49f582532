import {shq} from '../../remote/shell.js'

/**
 * Spark on YARN without Spark on every host: the head's Spark jars go into HDFS once per Spark runtime, as one
 * uncompressed tar named by `spark.yarn.archive` (YARN unpacks it once per NodeManager into its public cache, shared
 * by every application after), and PySpark's archives beside it (PYSPARK_ARCHIVES_PATH). Only the head, where jobs
 * are submitted, unpacks the Spark runtime.
 */

/** The folder in HDFS of one Spark runtime (the archive's content id names it: another runtime gets its own). */
export function sparkHdfsDir(distId: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(distId)) throw new Error(`not a Spark runtime id: ${JSON.stringify(distId)}`)
  return `/cms/spark/${distId}`
}

export const SPARK_JARS_ARCHIVE = 'spark-jars.tar'

export interface SparkOnHdfs {
  /** spark.yarn.archive: the jars' tar, as a full hdfs:// URI. */
  archive: string
  /** PYSPARK_ARCHIVES_PATH: PySpark's zips (pyspark.zip, py4j), full hdfs:// URIs. */
  pyArchives: string[]
}

/** The URIs of the published runtime, from the NameNode's URI, its folder and the zip names the publish printed. */
export function sparkOnHdfs(namenode: string, dir: string, pyZips: readonly string[]): SparkOnHdfs {
  return {archive: `${namenode}${dir}/${SPARK_JARS_ARCHIVE}`, pyArchives: pyZips.map((z) => `${namenode}${dir}/${z}`)}
}

/**
 * Run on the head: puts what is not there yet into HDFS through the NameNode's WebHDFS (curl; no JVM to start),
 * each file under a temporary name renamed into place, so a file in place is always whole. Prints `pyzip NAME` per
 * PySpark archive and `published` when it wrote the jars' tar. The jars' tar is streamed from tar to the DataNode
 * (no copy of ~500 MB on the head's disk); a tar that fails leaves its partial file unrenamed. Files are
 * world-readable (HDFS's default permissions), so YARN localizes them once per node for everyone. Each is written
 * as one replica (the head's own DataNode when it has one: a local write, not a pipeline through three JVMs) and
 * then given `replication` copies, which the NameNode makes in the background while the cluster is already in use.
 */
export function publishSparkScript(input: {sparkHome: string; namenodeHttp: string; user: string; dir: string; workDir: string; replication: number}): string {
  if (!Number.isInteger(input.replication) || input.replication < 1 || input.replication > 512) throw new Error(`not a replication factor: ${input.replication}`)
  const base = `http://${input.namenodeHttp}/webhdfs/v1`
  return [
    'set -eu',
    `base=${shq(base)}`,
    `q=${shq(`user.name=${encodeURIComponent(input.user)}`)}`,
    `dir=${shq(input.dir)}`,
    'there() { curl -fsS -o /dev/null "$base$1?op=GETFILESTATUS&$q" 2>/dev/null; }',
    // CREATE with noredirect answers the DataNode to write to as JSON; the data (a file, or - for stdin) goes there.
    'write_part() {',
    '  loc=$(curl -fsS -X PUT "$base$2.part?op=CREATE&overwrite=true&replication=1&noredirect=true&$q" | python3 -c \'import json, sys; print(json.load(sys.stdin)["Location"])\')',
    '  curl -fsS -X PUT -T "$1" -H "Content-Type: application/octet-stream" "$loc" >/dev/null',
    '}',
    'place() {',
    '  if ! curl -fsS -X PUT "$base$1.part?op=RENAME&destination=$1&$q" | grep -q \'"boolean":true\'; then there "$1" || { echo "HDFS would not take $1" >&2; exit 1; }; fi',
    `  curl -fsS -o /dev/null -X PUT "$base$1?op=SETREPLICATION&replication=${input.replication}&$q"`,
    '}',
    `cd ${shq(`${input.sparkHome}/python/lib`)}`,
    'for z in *.zip; do',
    '  [ -f "$z" ] || continue',
    '  there "$dir/$z" || { write_part "$z" "$dir/$z"; place "$dir/$z"; }',
    '  echo "pyzip $z"',
    'done',
    `jars="$dir/${SPARK_JARS_ARCHIVE}"`,
    'if ! there "$jars"; then',
    // No pipefail in sh: tar's failure is recorded in a file, checked before the partial file is renamed.
    `  failed=${shq(`${input.workDir}/${SPARK_JARS_ARCHIVE}.failed`)}`,
    '  rm -f "$failed"',
    `  { tar -cf - -C ${shq(`${input.sparkHome}/jars`)} . || echo tar > "$failed"; } | write_part - "$jars"`,
    '  if [ -e "$failed" ]; then rm -f "$failed"; echo "could not read Spark\'s jars on the head" >&2; exit 1; fi',
    '  place "$jars"',
    '  echo published',
    'fi',
  ].join('\n')
}

/** What the publish printed: the PySpark zips' names and whether it wrote the jars. */
export function parsePublish(output: string): {pyZips: string[]; published: boolean} {
  const lines = output.split('\n').map((l) => l.trim())
  return {pyZips: lines.filter((l) => l.startsWith('pyzip ')).map((l) => l.slice('pyzip '.length)), published: lines.includes('published')}
}
