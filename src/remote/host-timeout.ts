import {shq} from './shell.js'

/** Seconds between timeout(1)'s TERM and its KILL for a command that ignores TERM. */
export const KILL_GRACE_SECONDS = 2

/**
 * `command` wrapped so that the host itself ends it after `timeoutMs`, whatever user cms logs in as (sshd does not
 * deliver a client's signal request to a root login). timeout(1) (GNU coreutils, busybox) sends TERM to the
 * command's whole process group, then KILL after KILL_GRACE_SECONDS, and exits 124; the KILL takes timeout(1)
 * down too (it is in that group), so the host reports exit-signal KILL, or 137 where a shell waited for it.
 * The command still runs under the login shell ($SHELL -c, as sshd runs it), with its stdin and exit code.
 * The probe runs timeout(1) with the same kind of arguments (an old busybox without -k or fractional seconds fails
 * it); on a host without a usable timeout(1) the command runs without it and only the signal request can stop it.
 */
export function withHostTimeout(command: string, timeoutMs: number): string {
  const seconds = String(Math.max(1, Math.ceil(timeoutMs)) / 1000)
  const timeout = `timeout -k ${KILL_GRACE_SECONDS} ${seconds}`
  return (
    `set -- "\${SHELL:-/bin/sh}" -c ${shq(command)}; ` +
    `if timeout -k 1 60.5 true >/dev/null 2>&1; then set -- ${timeout} "$@"; fi; exec "$@"`
  )
}

/** Whether an exit code says timeout(1) ended the command: its 124 (after TERM), or 137 (128 + KILL) from a shell. */
export function isHostTimeoutExit(code: number | null | undefined): boolean {
  return code === 124 || code === 137
}
