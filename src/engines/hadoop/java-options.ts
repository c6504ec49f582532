/**
 * The Java 17 module opens Hadoop's daemons and clients need: Hadoop's own list (hadoop-functions.sh
 * hadoop_finalize_jpms_opts, kept in sync with hadoop-project's pom, the same in 3.4.3 and 3.5.0) plus sun.nio.ch,
 * which the ResourceManager and NodeManager need. The launchers of the runtime (scripts/hadoop-dist.sh) pass the same
 * list; this one is for JVMs cms starts itself (HADOOP_OPTS, a Spark driver's extraJavaOptions).
 */
export const JAVA_BASE_OPENS = [
  'java.io',
  'java.lang',
  'java.lang.reflect',
  'java.math',
  'java.net',
  'java.text',
  'java.util',
  'java.util.concurrent',
  'java.util.zip',
  'sun.nio.ch',
  'sun.security.util',
  'sun.security.x509',
] as const

/** `--add-opens=java.base/PACKAGE=ALL-UNNAMED` for every package above, in that order. */
export function javaOpens(): string[] {
  return JAVA_BASE_OPENS.map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`)
}
