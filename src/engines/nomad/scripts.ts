import {shq} from '../../remote/shell.js'
import {OWN_PROCESS_FUNCTION, releaseCmsHomeScript, selfSafePattern} from '../host-scripts.js'
import type {AgentFiles, NomadLayout} from './layout.js'

/**
 * Pure builders of the scripts that run Nomad agents on a host. There is no service manager to rely on (containers,
 * minimal hosts): each agent runs in its own session under nohup with a pid file, like Spark's daemons.
 */

export function prepareDirsScript(l: NomadLayout): string {
  return `umask 077 && mkdir -p ${[l.dir, l.tlsDir, l.client.dataDir, l.server.dataDir, l.secretsDir].map(shq).join(' ')}`
}

/**
 * Starts the agent unless it already runs with the same configuration; a changed configuration restarts it.
 * Prints `running`, `started` or `restarted`.
 */
export function startAgentScript(a: AgentFiles, binary: string, configHash: string): string {
  return [
    'set -e',
    OWN_PROCESS_FUNCTION,
    `pidf=${shq(a.pidFile)}`,
    'state=started',
    `if [ -f "$pidf" ] && ${isAgent('"$(cat "$pidf")"', a)}; then`,
    `  if [ "$(cat ${shq(a.hashFile)} 2>/dev/null)" = ${shq(configHash)} ]; then echo running; exit 0; fi`,
    `  ${stopAgentLines(a).join('\n  ')}`,
    '  state=restarted',
    'fi',
    `cd "$(dirname ${shq(a.config)})"`,
    `nohup setsid ${shq(binary)} agent -config=${shq(a.config)} >> ${shq(a.logFile)} 2>&1 < /dev/null &`,
    'echo $! > "$pidf"',
    `printf '%s\\n' ${shq(configHash)} > ${shq(a.hashFile)}`,
    'sleep 0.5',
    `kill -0 "$(cat "$pidf")" 2>/dev/null || { tail -n 20 ${shq(a.logFile)} >&2; exit 5; }`,
    'echo "$state"',
  ].join('\n')
}

/** The shell test that PID is this agent (the nomad program with this agent's configuration); needs `ours`. */
function isAgent(pid: string, a: AgentFiles): string {
  return `ours ${pid} nomad ${shq(`-config=${a.config}`)}`
}

/** SIGTERM (the agent leaves the cluster: leave_on_terminate), then SIGKILL after 20 s; this agent's process only. */
function stopAgentLines(a: AgentFiles): string[] {
  return [
    `p=$(cat ${shq(a.pidFile)} 2>/dev/null || true)`,
    `if [ -n "$p" ] && ${isAgent('"$p"', a)}; then kill -TERM "$p"; for _ in $(seq 1 40); do ${isAgent('"$p"', a)} || break; sleep 0.5; done; ${isAgent('"$p"', a)} && kill -9 "$p" 2>/dev/null || true; fi`,
    `rm -f ${shq(a.pidFile)}`,
  ]
}

export function stopAgentScript(a: AgentFiles): string {
  return [OWN_PROCESS_FUNCTION, ...stopAgentLines(a)].join('\n')
}

/**
 * The agents' data dirs in $cdd and $sdd, assembled at run time: the script's own command line must not contain the
 * paths, or the pkill/pgrep patterns and the environment scan below would find the script itself.
 */
function dataDirVars(l: NomadLayout): string {
  return `nd="$(dirname ${shq(l.client.config)})"; cdd="$nd/client-data"; sdd="$nd/server-data"`
}

/**
 * Task processes (raw_exec ones may outlive their executor): Nomad gives every task NOMAD_ALLOC_DIR and friends,
 * paths under the client's data dir ($cdd), in its environment.
 */
const TASK_PIDS = `for e in /proc/[0-9]*/environ; do grep -qsF "$cdd/" "$e" && { p=\${e#/proc/}; echo "\${p%/environ}"; }; done`

/** Processes started from either data dir: executors, log monitors. */
function dataDirPids(l: NomadLayout): string {
  return `pgrep -f -- ${selfSafePattern(l.client.dataDir)}; pgrep -f -- ${selfSafePattern(l.server.dataDir)}`
}

/**
 * Stops both agents and every task the client started, unmounts what the client mounted under its data dir
 * (secrets and private tmpfs of allocations), deletes the cluster's files and, once no cluster uses the host,
 * ~/.cms.
 */
export function cleanupScript(l: NomadLayout, home: string): string {
  return [
    `if [ -d ${shq(l.clusterDir)} ]; then`,
    `  ${dataDirVars(l)}`,
    `  ${OWN_PROCESS_FUNCTION}`,
    ...[l.client, l.server].flatMap(stopAgentLines).map((s) => `  ${s}`),
    `  for p in $(${dataDirPids(l)}); do kill -TERM "$p" 2>/dev/null || true; done`,
    `  for _ in $(seq 1 20); do [ -z "$(${dataDirPids(l)})" ] && break; sleep 0.5; done`,
    `  for p in $(${dataDirPids(l)}; ${TASK_PIDS}); do kill -9 "$p" 2>/dev/null || true; done`,
    `  awk -v c="$cdd/" -v s="$sdd/" 'index($2, c) == 1 || index($2, s) == 1 {print $2}' /proc/mounts 2>/dev/null | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done`,
    `  rm -rf ${shq(l.clusterDir)}`,
    'fi',
    releaseCmsHomeScript(home),
    'exit 0',
  ].join('\n')
}

/** Processes of the cluster's agents and tasks still running, and mounts left under their data dirs. */
export function leftoverScript(l: NomadLayout): string {
  return [
    dataDirVars(l),
    `n=$( (${dataDirPids(l)}; ${TASK_PIDS}) | sort -u | wc -l)`,
    OWN_PROCESS_FUNCTION,
    ...[l.client, l.server].map((a) => `[ -f ${shq(a.pidFile)} ] && ${isAgent(`"$(cat ${shq(a.pidFile)})"`, a)} && n=$((n + 1))`),
    `m=$(awk -v c="$cdd/" -v s="$sdd/" 'index($2, c) == 1 || index($2, s) == 1' /proc/mounts 2>/dev/null | wc -l)`,
    'echo $((n + m))',
  ].join('\n')
}
