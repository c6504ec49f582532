import {existsSync, mkdirSync, renameSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {localPaths} from '../../config/paths.js'
import type {SshSession} from '../../remote/session.js'
import {shq} from '../../remote/shell.js'
import {resolveArtifact, type Artifact, type ArtifactKind} from '../artifact.js'
import {waitFor} from '../coordination.js'
import type {Shipment} from '../shipping.js'
import {artifactPaths} from '../shipping-scripts.js'
import {pidFile, type HadoopLayout} from './layout.js'

/**
 * Class data sharing for Hadoop's JVMs: a daemon that maps an archive of Hadoop's classes, parsed and verified
 * already, starts on ~40% less CPU. An archive serves only the JVM build that made it, so cms makes it on a cluster's
 * head (`hadoop-daemon cds-dump`, from the class list the runtime carries), keeps it in this machine's cache for that
 * Hadoop runtime and that JVM (named by its libjvm.so's hash), and ships it beside the runtime to the hosts of the
 * clusters made after whose head runs the same JVM. A host whose JVM is another build ignores it.
 */
const CLASS_DATA_FILE = 'hadoop.jsa'
const TOP = 'class-data-hadoop'
const DUMP_TIMEOUT_MS = 300_000

const KIND: ArtifactKind = {what: 'Hadoop class data', flag: '--hadoop-dist', envVar: 'CMS_DIST_CACHE', extensions: ['.tgz']}

/** Where this machine keeps the archive made for the Hadoop runtime `hadoopId` and the JVM `jvmId`. */
export function classDataCachePath(hadoopId: string, jvmId: string): string {
  return join(localPaths.distCache(), 'hadoop-class-data', hadoopId, `${jvmId}.tgz`)
}

/** The archive kept for this runtime and JVM, as one more archive to ship; none before a cluster made it. */
export async function cachedClassData(hadoopId: string, jvmId: string): Promise<Artifact | undefined> {
  const path = classDataCachePath(hadoopId, jvmId)
  if (!existsSync(path)) return undefined
  return resolveArtifact(path, KIND, {log: () => undefined, probe: CLASS_DATA_FILE})
}

/**
 * Prints the first 16 hex digits of the sha256 of the libjvm.so the runtime's launchers run (they pick JAVA_HOME):
 * the JVM build an archive is for. Prints nothing when there is no such file.
 */
export function jvmIdScript(hadoopHome: string): string {
  const inner = '. "$1/libexec/hadoop-config.sh" >/dev/null 2>&1 && f="$JAVA_HOME/lib/server/libjvm.so" && [ -f "$f" ] && sha256sum "$f" | cut -c1-16 || true'
  return `bash -c ${shq(inner)} _ ${shq(hadoopHome)}`
}

/** The JVM id jvmIdScript printed, or undefined. */
export function parseJvmId(out: string): string | undefined {
  const id = out.trim()
  return /^[0-9a-f]{16}$/.test(id) ? id : undefined
}

/**
 * On the head, before its daemons start: the archive kept for its JVM, taken into the shipment for every host; or,
 * none being kept, the dump started (it runs while the cluster starts). No JVM found: neither.
 */
export async function classDataOnHead(
  session: SshSession,
  shipment: Shipment,
  layout: HadoopLayout,
  hadoopHome: string,
  hadoopId: string,
): Promise<{jvmId?: string; kept?: Artifact}> {
  const jvmId = parseJvmId(await session.run(jvmIdScript(hadoopHome), {label: "identify the head's JVM"}))
  if (!jvmId) return {}
  const kept = await cachedClassData(hadoopId, jvmId)
  if (kept) {
    shipment.include(kept)
    return {jvmId, kept}
  }
  await session.run(startDumpScript(layout, hadoopHome), {label: 'start the class data dump'})
  return {jvmId}
}

/** Where the shipped archive is on a host: its one top folder, unpacked like every archive (no need to ask the host). */
export function shippedClassDataPath(home: string, a: Artifact): string {
  return `${artifactPaths(home, a.id, a.archiveExt).distDir}/${TOP}/${CLASS_DATA_FILE}`
}

/** The folder on the head where an archive is made. */
function dumpDir(l: HadoopLayout): string {
  return `${l.dataDir}/class-data`
}

/**
 * Starts making the archive on the head, detached from the SSH session; `done` holds 0 once class-data.tgz is
 * complete, 1 if the dump failed (dump.log says why). At normal priority: the converge waits for it anyway, and on a
 * busy head a niced dump only ran once the daemons idled (a cold 4-host create on 2 cores: 59 s niced, 54 s not).
 */
export function startDumpScript(l: HadoopLayout, hadoopHome: string): string {
  const d = dumpDir(l)
  const work = [
    'set -o pipefail',
    'd=$1',
    `if "$0" cds-dump "$d/${TOP}/${CLASS_DATA_FILE}" > "$d/dump.log" 2>&1 && tar -C "$d" -cf - ${TOP} | gzip -1 > "$d/class-data.tgz.part"; then`,
    '  mv "$d/class-data.tgz.part" "$d/class-data.tgz"; echo 0 > "$d/done"',
    'else echo 1 > "$d/done"; fi',
  ].join('\n')
  return [
    'set -e',
    `rm -rf ${shq(d)}`,
    `mkdir -p ${shq(`${d}/${TOP}`)}`,
    `cd ${shq(d)}`,
    `nohup setsid bash -c ${shq(work)} ${shq(`${hadoopHome}/bin/hadoop-daemon`)} ${shq(d)} > /dev/null 2>&1 < /dev/null &`,
  ].join('\n')
}

/** Prints `running`, `made` or `failed: <the dump's last lines>`. */
export function dumpStateScript(l: HadoopLayout): string {
  const d = shq(dumpDir(l))
  return `s=$(cat ${d}/done 2>/dev/null || true); case "$s" in 0) echo made;; 1) echo "failed: $(tail -n 3 ${d}/dump.log 2>/dev/null | tr '\\n' ' ')";; *) echo running;; esac`
}

export function removeDumpScript(l: HadoopLayout): string {
  return `rm -rf ${shq(dumpDir(l))}`
}

/** Prints `mapped` when the head's running NameNode has mapped ARCHIVE, else `not-mapped`. */
export function mappedScript(l: HadoopLayout, archive: string): string {
  return `p=$(cat ${shq(pidFile(l, 'namenode'))} 2>/dev/null || true); if [ -n "$p" ] && grep -qF ${shq(archive)} "/proc/$p/maps" 2>/dev/null; then echo mapped; else echo not-mapped; fi`
}

export type ClassDataNeed = 'none' | 'make' | 'check'

/**
 * What a converge does about the archive once the cluster is up: make one when none was shipped; when one was and
 * the NameNode started in this converge, check that it mapped it (it did not: the hosts' JVM is another build);
 * a NameNode that ran before says nothing about the archive.
 */
export function classDataNeed(shipped: boolean, namenodeStartedNow: boolean): ClassDataNeed {
  if (!shipped) return 'make'
  return namenodeStartedNow ? 'check' : 'none'
}

/**
 * After a converge: makes sure this machine keeps an archive the hosts' JVM can use. Waits for the dump started
 * earlier (or starts one), fetches it into the cache and removes it from the head. Never fails the converge: a
 * problem is one line of the log.
 */
export async function keepClassData(input: {
  session: SshSession
  layout: HadoopLayout
  hadoopHome: string
  hadoopId: string
  jvmId: string
  /** The archive shipped to the hosts (its path there), when one was; when none was, classDataOnHead started the dump. */
  shipped?: string
  namenodeStartedNow: boolean
  log: (line: string) => void
}): Promise<void> {
  const {session, layout, log} = input
  const need = classDataNeed(Boolean(input.shipped), input.namenodeStartedNow)
  if (need === 'none') return
  try {
    if (need === 'check') {
      if ((await session.run(mappedScript(layout, input.shipped!), {label: 'check the class data'})).trim() === 'mapped') return
      log(`The NameNode did not use the kept class data archive: making it again on the head`)
    } else log(`Making the class data archive of Hadoop for the hosts' Java on the head (once per Java build and Hadoop runtime: the daemons of later clusters start on less CPU)`)
    if (need === 'check') await session.run(startDumpScript(layout, input.hadoopHome), {label: 'start the class data dump'})
    let state = 'running'
    await waitFor(
      DUMP_TIMEOUT_MS,
      async () => (state = (await session.run(dumpStateScript(layout), {label: 'class data dump'})).trim()) !== 'running',
      'the class data dump did not finish',
    )
    if (state !== 'made') throw new Error(`the class data dump ${state}`)
    const archive = await session.readFile(`${layout.dataDir}/class-data/class-data.tgz`)
    if (!archive?.length) throw new Error('the class data archive is missing on the head')
    const path = classDataCachePath(input.hadoopId, input.jvmId)
    mkdirSync(dirname(path), {recursive: true})
    writeFileSync(`${path}.part`, archive)
    renameSync(`${path}.part`, path)
    log(`Kept the class data archive in ${path} (${Math.round(archive.length / 1e6)} MB)`)
  } catch (error) {
    log(`No class data archive kept: ${(error as Error).message}`)
  } finally {
    await session.run(removeDumpScript(layout), {label: 'remove the class data dump'}).catch(() => undefined)
  }
}
