import {execFileSync} from 'node:child_process'
import {mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {pidFile, sparkLayout} from '../../src/engines/spark/layout.js'
import * as scripts from '../../src/engines/spark/scripts.js'
import * as jobScripts from '../../src/engines/spark/job-scripts.js'

const layout = sparkLayout('/home/it\'s me', 'demo', 'abc123', '.tgz')
const config: scripts.SparkConfig = {
  cluster: 'demo',
  sparkHome: '/home/x/.cms/dist/abc/spark-4.0.1',
  privateAddress: '172.18.0.3',
  headAddress: '172.18.0.2',
  daemonMemory: '512m',
}

function sh(script: string, env: Record<string, string> = {}) {
  return execFileSync('bash', ['-c', script], {env: {...process.env, ...env}, encoding: 'utf8'})
}

describe('spark layout', () => {
  it('keeps everything under ~/.cms with names spark-daemon.sh uses', () => {
    expect(layout.clusterDir).toBe("/home/it's me/.cms/clusters/demo")
    expect(layout.distArchive).toBe("/home/it's me/.cms/dist/abc123.tgz")
    expect(pidFile(layout, 'worker')).toBe("/home/it's me/.cms/clusters/demo/run/spark-cms-demo-org.apache.spark.deploy.worker.Worker-1.pid")
  })
})

describe('spark config files', () => {
  it('binds everything to the private address and enables REST on it', () => {
    const env = scripts.sparkEnvFile(layout, config)
    expect(env).toContain('export SPARK_LOCAL_IP=172.18.0.3')
    expect(env).toContain('export SPARK_MASTER_HOST=172.18.0.2')
    expect(env).toContain(`export SPARK_CONF_DIR='/home/it'\\''s me/.cms/clusters/demo/conf'`)
    const defaults = scripts.sparkDefaultsFile(config)
    expect(defaults).toContain('spark.master.rest.enabled true')
    expect(defaults).toContain('spark.decommission.enabled true')
    expect(defaults).toContain('spark.master spark://172.18.0.2:7077')
  })

  it('sources cleanly in a real shell, quoting paths with quotes and spaces', () => {
    const out = sh(`${scripts.sparkEnvFile(layout, config)}\nprintf '%s|%s' "$SPARK_LOG_DIR" "$SPARK_IDENT_STRING"`)
    expect(out).toBe("/home/it's me/.cms/clusters/demo/logs|cms-demo")
  })

  it('brackets IPv6 master addresses', () => {
    expect(scripts.masterUrl('fd00::2')).toBe('spark://[fd00::2]:7077')
  })

  it('worker settings appear only when given', () => {
    expect(scripts.sparkEnvFile(layout, config)).not.toContain('SPARK_WORKER_CORES')
    expect(scripts.sparkEnvFile(layout, {...config, workerCores: 2, workerMemory: '4g'})).toContain('SPARK_WORKER_MEMORY=4g')
  })
})

describe('cleanup', () => {
  it('removes the cluster dir and ~/.cms when it was the last cluster, and never kills its own shell', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-unit-'))
    const l = sparkLayout(home, 'demo', 'id3', '.tgz')
    mkdirSync(l.confDir, {recursive: true})
    mkdirSync(l.distDir, {recursive: true})
    sh(scripts.cleanupScript(l, home))
    expect(existsSync(join(home, '.cms'))).toBe(false)
  })

  it('keeps ~/.cms while another cluster uses the host', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-unit-'))
    const l = sparkLayout(home, 'demo', 'id3', '.tgz')
    const other = sparkLayout(home, 'other', 'id3', '.tgz')
    mkdirSync(l.confDir, {recursive: true})
    mkdirSync(other.confDir, {recursive: true})
    sh(scripts.cleanupScript(l, home))
    expect(existsSync(l.clusterDir)).toBe(false)
    expect(existsSync(other.clusterDir)).toBe(true)
  })

  it('builds pgrep patterns that match the path but not themselves', () => {
    const pattern = scripts.selfSafePattern('/root/.cms/clusters/a.b/conf')
    expect(pattern).toBe("'[/]root/\\.cms/clusters/a\\.b/conf'")
    const regex = new RegExp(pattern.slice(1, -1))
    expect(regex.test('java -cp /root/.cms/clusters/a.b/conf/:/jars')).toBe(true)
    expect(regex.test(pattern)).toBe(false)
  })
})

describe('daemon start script', () => {
  it('compares the config hash and names the right sbin script', () => {
    const s = scripts.startDaemonScript(layout, '/opt/spark', 'worker', 'h1', '10.0.0.1')
    expect(s).toContain('/opt/spark/sbin/spark-daemon.sh start org.apache.spark.deploy.worker.Worker 1 --webui-port 8081 spark://10.0.0.1:7077')
    expect(s).toContain('/opt/spark/sbin/spark-daemon.sh stop org.apache.spark.deploy.worker.Worker 1')
    expect(s).toContain('= h1 ]')
  })
})

describe('python runner (client mode on the head)', () => {
  it('runs spark-submit until an attempt succeeds; only the launcher JVM gets the short-lived options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-pyrun-'))
    mkdirSync(join(dir, 'spark', 'bin'), {recursive: true})
    mkdirSync(join(dir, 'job'))
    // Fails its first attempt, succeeds on the second; prints what its JVMs would get.
    writeFileSync(join(dir, 'spark', 'bin', 'spark-submit'), '#!/bin/sh\necho "launcher=$SPARK_LAUNCHER_OPTS submit=${SPARK_SUBMIT_OPTS-unset} mine=$MINE args=$*"\n[ -f tried ] && exit 0\ntouch tried; exit 4\n', {mode: 0o755})
    const runner = join(dir, 'job', 'run.sh')
    writeFileSync(runner, jobScripts.pythonRunner({sparkHome: join(dir, 'spark'), confDir: join(dir, 'conf'), argv: ['app.py', 'a b'], env: {MINE: "it's mine"}, attempts: 3}), {mode: 0o755})
    execFileSync('bash', [runner], {env: {PATH: process.env.PATH!}})
    expect(readFileSync(join(dir, 'job', 'attempt-1.exit'), 'utf8')).toBe('4\n')
    expect(readFileSync(join(dir, 'job', 'attempt-2.exit'), 'utf8')).toBe('0\n')
    expect(existsSync(join(dir, 'job', 'attempt-3.json'))).toBe(false)
    expect(readFileSync(join(dir, 'job', 'attempt-2.log'), 'utf8')).toBe("launcher=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC submit=unset mine=it's mine args=app.py a b\n")
  })
})
