import {execFileSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cachedClassData, classDataCachePath, classDataNeed, classDataOnHead, dumpStateScript, jvmIdScript, mappedScript, parseJvmId, removeDumpScript, shippedClassDataPath, startDumpScript} from '../../../../src/engines/hadoop/class-data.js'
import {hadoopLayout, pidFile} from '../../../../src/engines/hadoop/layout.js'
import {formatScript, startDaemonScript} from '../../../../src/engines/hadoop/scripts.js'
import type {SshSession} from '../../../../src/remote/session.js'
import {Shipment} from '../../../../src/engines/shipping.js'
import {artifactPaths, artifactRootScript, unpackUploadedScript} from '../../../../src/engines/shipping-scripts.js'

const bash = (script: string) => execFileSync('bash', ['-c', script], {encoding: 'utf8'}).trim()

/** A runtime whose bin/hadoop-daemon stands in for the real one: `cds-dump FILE` writes FILE, or fails if told to. */
function fakeRuntime(dir: string, fail: boolean): string {
  const home = join(dir, 'hadoop')
  mkdirSync(join(home, 'bin'), {recursive: true})
  const daemon = join(home, 'bin', 'hadoop-daemon')
  writeFileSync(daemon, `#!/usr/bin/env bash\n[ "$1" = cds-dump ] || exit 2\n${fail ? 'echo "Error: no class list" >&2; exit 1' : 'printf archive > "$2"'}\n`)
  chmodSync(daemon, 0o755)
  return home
}

function waitForDump(script: string): string {
  for (let i = 0; i < 100; i++) {
    const state = bash(script)
    if (state !== 'running') return state
    execFileSync('sleep', ['0.1'])
  }
  return 'running'
}

/** Runs `fn` with CMS_DIST_CACHE pointing at a fresh folder (given to it), then puts the variable back. */
async function withDistCache(fn: (cache: string) => Promise<void>): Promise<void> {
  const cache = mkdtempSync(join(tmpdir(), 'cms-cds-cache-'))
  const before = process.env.CMS_DIST_CACHE
  process.env.CMS_DIST_CACHE = cache
  try {
    await fn(cache)
  } finally {
    if (before === undefined) delete process.env.CMS_DIST_CACHE
    else process.env.CMS_DIST_CACHE = before
  }
}

describe('hadoop class data', () => {
  it('is made once none was shipped, checked when the NameNode started with one, left alone otherwise', () => {
    expect(classDataNeed(false, true)).toBe('make')
    expect(classDataNeed(false, false)).toBe('make')
    expect(classDataNeed(true, true)).toBe('check')
    expect(classDataNeed(true, false)).toBe('none')
  })

  it('is kept per Hadoop runtime and JVM build in the dist cache, and shipped as an archive of its own once there', async () => {
    await withDistCache(async (cache) => {
      expect(classDataCachePath('abc', '0123456789abcdef')).toBe(join(cache, 'hadoop-class-data', 'abc', '0123456789abcdef.tgz'))
      expect(await cachedClassData('abc', '0123456789abcdef')).toBeUndefined()
      mkdirSync(join(cache, 'hadoop-class-data', 'abc'), {recursive: true})
      writeFileSync(classDataCachePath('abc', '0123456789abcdef'), 'x'.repeat(10))
      expect(await cachedClassData('abc', 'fedcba9876543210')).toBeUndefined()
      const artifact = await cachedClassData('abc', '0123456789abcdef')
      expect(artifact).toMatchObject({what: 'Hadoop class data', bytes: 10, archiveExt: '.tgz', probe: 'hadoop.jsa'})
      expect(artifact!.id).toMatch(/^[0-9a-f]{16}$/)
    })
  })

  it("on the head: ships the archive kept for the head's JVM to every host, or starts the dump when none is", async () => {
    await withDistCache(async (cache) => {
      const labels: string[] = []
      const session = (jvm: string) => ({
        async run(_script: string, opts: {label: string}) {
          labels.push(opts.label)
          return opts.label === "identify the head's JVM" ? `${jvm}\n` : ''
        },
      }) as unknown as SshSession
      const l = hadoopLayout('/root', 'c1')
      const hadoop = {what: 'Hadoop', id: 'h1', path: '/x.tgz', bytes: 1, archiveExt: '.tgz' as const, flag: '--hadoop-dist', probe: 'bin/hadoop'}
      const fresh = new Shipment([hadoop], true)
      expect(await classDataOnHead(session('0123456789abcdef'), fresh, l, '/h', 'h1')).toEqual({jvmId: '0123456789abcdef'})
      expect(labels).toContain('start the class data dump')
      expect(fresh.artifacts).toHaveLength(1)

      mkdirSync(join(cache, 'hadoop-class-data', 'h1'), {recursive: true})
      writeFileSync(classDataCachePath('h1', '0123456789abcdef'), 'archive')
      labels.length = 0
      const warm = new Shipment([hadoop], true)
      const choice = await classDataOnHead(session('0123456789abcdef'), warm, l, '/h', 'h1')
      expect(choice).toMatchObject({jvmId: '0123456789abcdef', kept: {what: 'Hadoop class data'}})
      expect(warm.artifacts.map((a) => a.what)).toEqual(['Hadoop', 'Hadoop class data'])
      expect(labels).not.toContain('start the class data dump')

      // Another JVM build on the head: the archive kept for the first is not shipped; one is made for this one.
      const other = new Shipment([hadoop], true)
      labels.length = 0
      expect(await classDataOnHead(session('fedcba9876543210'), other, l, '/h', 'h1')).toEqual({jvmId: 'fedcba9876543210'})
      expect(labels).toContain('start the class data dump')
      expect(other.artifacts).toHaveLength(1)
      labels.length = 0
      expect(await classDataOnHead(session(''), other, l, '/h', 'h1')).toEqual({})
      expect(labels).not.toContain('start the class data dump')
    })
  })

  it("names the JVM the runtime's launchers pick by its libjvm.so's hash, in a real shell", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-cds-'))
    const home = join(dir, 'hadoop')
    const javaHome = join(dir, 'jdk')
    mkdirSync(join(home, 'libexec'), {recursive: true})
    mkdirSync(join(javaHome, 'lib', 'server'), {recursive: true})
    // The runtime's hadoop-config.sh picks JAVA_HOME; this one names the fake JDK.
    writeFileSync(join(home, 'libexec', 'hadoop-config.sh'), `export JAVA_HOME=${javaHome}\n`)
    expect(parseJvmId(bash(jvmIdScript(home)))).toBeUndefined()
    writeFileSync(join(javaHome, 'lib', 'server', 'libjvm.so'), 'jvm')
    const expected = execFileSync('sha256sum', [join(javaHome, 'lib', 'server', 'libjvm.so')], {encoding: 'utf8'}).slice(0, 16)
    expect(parseJvmId(bash(jvmIdScript(home)))).toBe(expected)
    expect(parseJvmId('sha256sum: x: No such file\n')).toBeUndefined()
  })

  it('is dumped on the head in the background into one archive, in a real shell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-cds-'))
    const l = hadoopLayout(dir, 'c1')
    expect(bash(dumpStateScript(l))).toBe('running')
    bash(startDumpScript(l, fakeRuntime(dir, false)))
    expect(waitForDump(dumpStateScript(l))).toBe('made')
    const listed = bash(`tar -tzf ${l.dataDir}/class-data/class-data.tgz`).split('\n')
    expect(listed).toContain('class-data-hadoop/hadoop.jsa')
    expect(bash(`tar -xzOf ${l.dataDir}/class-data/class-data.tgz class-data-hadoop/hadoop.jsa`)).toBe('archive')
    // Shipped to a host and unpacked there like every archive: the path cms derives is the file the host holds.
    const shipped = {what: 'Hadoop class data', id: 'c1', bytes: 1, archiveExt: '.tgz' as const, flag: '--hadoop-dist', probe: 'hadoop.jsa'}
    const paths = artifactPaths(dir, shipped.id, shipped.archiveExt)
    bash(`mkdir -p ${paths.distRoot} && cp ${l.dataDir}/class-data/class-data.tgz ${paths.distArchive}`)
    bash(unpackUploadedScript(paths, '.tgz', shipped.probe, shipped.what))
    expect(`${bash(artifactRootScript(paths))}/hadoop.jsa`).toBe(shippedClassDataPath(dir, shipped))
    expect(bash(`cat ${shippedClassDataPath(dir, shipped)}`)).toBe('archive')
    bash(removeDumpScript(l))
    expect(existsSync(join(l.dataDir, 'class-data'))).toBe(false)
  })

  it('says why a dump failed, and leaves no archive', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-cds-'))
    const l = hadoopLayout(dir, 'c1')
    bash(startDumpScript(l, fakeRuntime(dir, true)))
    expect(waitForDump(dumpStateScript(l))).toBe('failed: Error: no class list')
    expect(existsSync(join(l.dataDir, 'class-data', 'class-data.tgz'))).toBe(false)
  })

  it("reads from the NameNode's memory map whether its JVM mapped the archive", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-cds-'))
    const l = hadoopLayout(dir, 'c1')
    mkdirSync(l.runDir, {recursive: true})
    expect(bash(mappedScript(l, '/x/hadoop.jsa'))).toBe('not-mapped')
    // This test's own process stands in for the NameNode: node is mapped in it, a made-up archive is not.
    writeFileSync(pidFile(l, 'namenode'), String(process.pid))
    expect(bash(mappedScript(l, process.execPath))).toBe('mapped')
    expect(bash(mappedScript(l, join(dir, 'hadoop.jsa')))).toBe('not-mapped')
  })

  it('reaches the launcher of daemons and of the format only when an archive was shipped', () => {
    const l = hadoopLayout('/home/u', 'c1')
    expect(startDaemonScript(l, '/h', 'datanode', 'abc', [], '/d/hadoop.jsa')).toMatch(/HADOOP_CDS_ARCHIVE='?\/d\/hadoop\.jsa/)
    expect(startDaemonScript(l, '/h', 'datanode', 'abc')).not.toContain('HADOOP_CDS_ARCHIVE')
    expect(formatScript(l, '/h', 'cms-c1', '/d/hadoop.jsa')).toMatch(/HADOOP_CDS_ARCHIVE='?\/d\/hadoop\.jsa/)
    expect(formatScript(l, '/h', 'cms-c1')).not.toContain('HADOOP_CDS_ARCHIVE')
  })
})
