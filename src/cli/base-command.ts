import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import type {RunOptions} from '../cluster/context.js'
import {providerFlagsOf} from '../providers/registry.js'
import {renderClusterInfo, renderHostReports} from '../output/render.js'
import type {ConvergeReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'

/**
 * Shared behaviour of every cms command: --json (the run() result is the JSON contract), progress on stderr,
 * exit 2 for bad usage and 1 for failures, one clear line per error.
 */
export abstract class CmsCommand extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    parallel: Flags.integer({description: 'Hosts worked on at once.', default: 16, min: 1, max: 256, helpGroup: 'GLOBAL'}),
    'connect-timeout': Flags.integer({description: 'Seconds to keep retrying a host that does not answer SSH yet.', default: 90, min: 1, helpGroup: 'GLOBAL'}),
  }

  protected runOptions(flags: {parallel: number; 'connect-timeout': number}): RunOptions {
    return {
      log: (line) => process.stderr.write(`${line}\n`),
      parallel: flags.parallel,
      connectTimeoutMs: flags['connect-timeout'] * 1000,
      providerFlags: providerFlagsOf(flags),
    }
  }

  private heldResultPrinted = false

  logJson(json: unknown): void {
    if (!this.heldResultPrinted) super.logJson(json)
  }

  /**
   * Commands that hold something open (a tunnel) until Ctrl-C: the --json result is printed once it is ready, not
   * when the command ends; then they wait for SIGINT or SIGTERM.
   */
  protected async holdUntilInterrupted(result: unknown): Promise<void> {
    if (this.jsonEnabled()) {
      super.logJson(result)
      this.heldResultPrinted = true
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
  }

  /** A partly failed operation still prints its result (per-host report) and then exits 1. */
  protected failWith(exitCode: number): void {
    process.exitCode = exitCode
  }

  /** create and add: the cluster as it now is on stdout; a per-host report and exit 1 if some hosts failed. */
  protected showConverge(report: ConvergeReport): void {
    this.log(renderClusterInfo(report.cluster))
    const failed = report.hosts.filter((h) => !h.ok)
    if (failed.length > 0) {
      this.logToStderr(`\n${renderHostReports(report.hosts)}\n`)
      this.logToStderr(`${failed.length} of ${report.hosts.length} hosts failed; rerun the same command to finish, or 'cms cluster kill -n ${report.cluster.name}' to remove everything.`)
      this.failWith(1)
    }
  }

  protected async catch(error: Interfaces.CommandError): Promise<unknown> {
    const oclifExit = (error as {oclif?: {exit?: number}}).oclif?.exit
    if (error instanceof Errors.ExitError) throw error
    const usage = error instanceof UsageError || oclifExit === 2
    const exitCode = usage ? 2 : 1
    // Bad usage may name several problems (one line per bad job file); other failures print their first line.
    const message = usage ? error.message.trim() : error.message.split('\n')[0]
    if (this.jsonEnabled()) this.logJson({error: {message, kind: usage ? 'usage' : 'failure'}})
    // One unwrapped line, whatever the terminal width, so scripts and CI logs can grep it.
    else process.stderr.write(`Error: ${message}\n`)
    if (process.env.CMS_DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
    return this.exit(exitCode)
  }
}

export const clusterNameFlag = Flags.string({char: 'n', description: 'Cluster name.', required: true, env: 'CMS_CLUSTER'})
export const optionalClusterNameFlag = Flags.string({char: 'n', description: 'Cluster name [default: the only cluster].', env: 'CMS_CLUSTER'})
