import {shq} from '../../remote/shell.js'
import {releaseCmsHomeScript, selfSafePattern} from '../host-scripts.js'
import type {NomadLayout} from './layout.js'

/**
 * Pure builders of the scripts that run a Nomad agent on a host. There is no service manager to rely on (containers,
 * minimal hosts): the agent runs in its own session under nohup with a pid file, like Spark's daemons.
 */

export function prepareDirsScript(l: NomadLayout): string {
  return `umask 077 && mkdir -p ${[l.dir, l.tlsDir, l.dataDir, l.secretsDir].map(shq).join(' ')}`
}

/**
 * Starts the agent unless it already runs with the same configuration; a changed configuration restarts it.
 * Prints `running`, `started` or `restarted`.
 */
export function startAgentScript(l: NomadLayout, binary: string, configHash: string): string {
  return [
    'set -e',
    `pidf=${shq(l.pidFile)}`,
    'state=started',
    'if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then',
    `  if [ "$(cat ${shq(l.hashFile)} 2>/dev/null)" = ${shq(configHash)} ]; then echo running; exit 0; fi`,
    `  ${stopAgentLines(l).join('\n  ')}`,
    '  state=restarted',
    'fi',
    `cd ${shq(l.dir)}`,
    `nohup setsid ${shq(binary)} agent -config=${shq(l.config)} >> ${shq(l.logFile)} 2>&1 < /dev/null &`,
    'echo $! > "$pidf"',
    `printf '%s\\n' ${shq(configHash)} > ${shq(l.hashFile)}`,
    'sleep 0.5',
    `kill -0 "$(cat "$pidf")" 2>/dev/null || { tail -n 20 ${shq(l.logFile)} >&2; exit 5; }`,
    'echo "$state"',
  ].join('\n')
}

/** SIGTERM (the agent leaves the cluster: leave_on_terminate), then SIGKILL after 20 s. */
function stopAgentLines(l: NomadLayout): string[] {
  return [
    `p=$(cat ${shq(l.pidFile)} 2>/dev/null || true)`,
    'if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done; kill -9 "$p" 2>/dev/null || true; fi',
    `rm -f ${shq(l.pidFile)}`,
  ]
}

export function stopAgentScript(l: NomadLayout): string {
  return stopAgentLines(l).join('\n')
}

/**
 * Stops the agent and every task it started (executors and raw_exec tasks run from the data dir), unmounts what
 * the agent mounted under its data dir (secrets and private tmpfs of allocations), deletes the cluster's files and,
 * once no cluster uses the host, ~/.cms.
 */
export function cleanupScript(l: NomadLayout, home: string): string {
  return [
    `if [ -d ${shq(l.clusterDir)} ]; then`,
    `  ${dataDirVar(l)}`,
    ...stopAgentLines(l).map((s) => `  ${s}`),
    `  pkill -TERM -f -- ${selfSafePattern(l.dataDir)} 2>/dev/null || true`,
    `  for _ in $(seq 1 20); do pgrep -f -- ${selfSafePattern(l.dataDir)} >/dev/null || break; sleep 0.5; done`,
    `  pkill -9 -f -- ${selfSafePattern(l.dataDir)} 2>/dev/null || true`,
    `  for p in $(${TASK_PIDS}); do kill -9 "$p" 2>/dev/null || true; done`,
    `  awk -v d="$dd/" 'index($2, d) == 1 {print $2}' /proc/mounts 2>/dev/null | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done`,
    `  rm -rf ${shq(l.clusterDir)}`,
    'fi',
    releaseCmsHomeScript(home),
    'exit 0',
  ].join('\n')
}

/**
 * The data dir in $dd, assembled at run time: the script's own command line must not contain the path, or the
 * pkill/pgrep patterns and the environment scan below would find the script itself.
 */
function dataDirVar(l: NomadLayout): string {
  return `dd="$(dirname ${shq(l.config)})/data"`
}

/**
 * Task processes (raw_exec ones may outlive their executor): Nomad gives every task NOMAD_ALLOC_DIR and friends,
 * paths under the data dir ($dd), in its environment.
 */
const TASK_PIDS = `for e in /proc/[0-9]*/environ; do grep -qsF "$dd/" "$e" && { p=\${e#/proc/}; echo "\${p%/environ}"; }; done`

/** Processes of the cluster's agent and tasks still running, and mounts left under its data dir. */
export function leftoverScript(l: NomadLayout): string {
  return [
    dataDirVar(l),
    `n=$( (pgrep -f -- ${selfSafePattern(l.dataDir)}; ${TASK_PIDS}) | sort -u | wc -l)`,
    `[ -f ${shq(l.pidFile)} ] && kill -0 "$(cat ${shq(l.pidFile)})" 2>/dev/null && n=$((n + 1))`,
    `m=$(awk -v d="$dd/" 'index($2, d) == 1' /proc/mounts 2>/dev/null | wc -l)`,
    'echo $((n + m))',
  ].join('\n')
}
