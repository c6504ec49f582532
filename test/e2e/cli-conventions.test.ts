import {execFile} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, cms, docker, labelledContainers, madeForNamesIn, makeCmsHome, removeClusterContainers} from './helpers.js'

// What users of oclif CLIs expect: `cms help`, "did you mean", shell completion; and no leftovers from a refused
// command. Asserts on what the CLI prints, what real shells complete and the files in CMS_HOME.
const exec = promisify(execFile)
const PREFIX = 'h8-'
const CLUSTER = `${PREFIX}comp`

/** Every file and folder under dir, relative to it. */
const filesUnder = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, {recursive: true, encoding: 'utf8'}).sort() : [])

interface ManifestCommand {
  id: string
  hidden?: boolean
  flags: Record<string, {name: string; char?: string}>
}
const manifest = () => JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const visibleCommands = () => Object.values(manifest().commands).filter((c) => !c.hidden)

// The shells run the scripts `cms autocomplete SHELL` prints, with `cms` on their PATH (a link to bin/run.js).
const binDir = mkdtempSync(join(tmpdir(), `cms-${PREFIX}bin-`))
symlinkSync(join(ROOT, 'bin', 'run.js'), join(binDir, 'cms'))
const scriptDir = mkdtempSync(join(tmpdir(), `cms-${PREFIX}scripts-`))

/** What the shell offers for `line` (the last word being completed, '' after a trailing space). */
async function shellComplete(shell: 'bash' | 'zsh' | 'fish', line: string, env: Record<string, string>): Promise<string[]> {
  const script = join(scriptDir, `cms.${shell}`)
  const words = line.split(' ')
  const quoted = words.map((w) => `'${w}'`).join(' ')
  const programs = {
    bash: `source ${script}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _cms_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
    // Outside a completion widget zsh's words/CURRENT are plain parameters; _describe and _files are stood in for.
    zsh: `autoload -Uz compinit; compinit -u -D; source ${script}; _describe() { local n=\${@[-1]}; print -rl -- "\${(@P)n}"; }; _files() { print -r -- '<files>'; }; words=(${quoted}); CURRENT=${words.length}; _cms_complete`,
    fish: `source ${script}; complete -C '${line}'`,
  }
  const args = shell === 'zsh' ? ['-f', '-c', programs.zsh] : shell === 'fish' ? ['--no-config', '-c', programs.fish] : ['--norc', '-c', programs.bash]
  const {stdout} = await exec(shell, args, {env: {...process.env, ...env, PATH: `${binDir}:${process.env.PATH}`}, timeout: 30_000})
  // bash prints values; zsh value:description (colons in values escaped); fish value<TAB>description.
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => (shell === 'zsh' ? l.replace(/(?<!\\):.*$/, '').replaceAll('\\:', ':') : l.split('\t')[0]))
}

describe('cms help, did you mean, completion, no leftovers', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}

  afterAll(() => {
    cleanup()
    rmSync(binDir, {recursive: true, force: true})
    rmSync(scriptDir, {recursive: true, force: true})
  })

  it('cms help [COMMAND...] prints exactly what --help prints, for the CLI, every topic and every command', async () => {
    const subjects = [[], ['cluster'], ['job'], ...visibleCommands().map((c) => c.id.split(':'))]
    expect(subjects.length).toBeGreaterThan(12)
    for (const words of subjects) {
      const [viaHelp, viaFlag] = await Promise.all([cms(['help', ...words], env), cms([...words, '--help'], env)])
      expect(viaHelp.code, `cms help ${words.join(' ')}: ${viaHelp.stderr}`).toBe(0)
      expect(viaHelp.stdout.length).toBeGreaterThan(50)
      expect(viaHelp.stdout, `cms help ${words.join(' ')}`).toBe(viaFlag.stdout)
    }
    const root = await cms(['help'], env)
    expect(root.stdout).toMatch(/^ {2}help +Display help for cms\.$/m)
    expect(root.stdout).toMatch(/^ {2}autocomplete +Print the shell completion script/m)
    expect(root.stdout).not.toContain('__complete')
  })

  it("README's command table lists exactly the CLI's commands, with flags they have", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('## JSON results'))
    const rows = table.split('\n').filter((l) => l.startsWith('| `cms'))
    const commands = new Map(visibleCommands().map((c) => [c.id, c]))
    const listed = new Set<string>()
    for (const row of rows) {
      // The first cell (pipes inside it are escaped) holds one or more usages.
      for (const usage of row.split(/(?<!\\)\|/)[1].match(/`cms [^`]*`/g) ?? []) {
        const tokens = usage.slice(1, -1).replaceAll('\\|', '|').split(/\s+/).slice(1)
        const firstNonWord = tokens.findIndex((t) => !/^[a-z]+$/.test(t))
        const words = firstNonWord === -1 ? tokens : tokens.slice(0, firstNonWord)
        if (words.length === 0) continue // `cms --version`
        // A plain word after the command is an argument's value (`cms image build spark`): the longest command wins.
        const k = [...words.keys()].reverse().find((i) => commands.has(words.slice(0, i + 1).join(':')))
        const id = words.slice(0, (k ?? words.length - 1) + 1).join(':')
        const command = commands.get(id)
        expect(command, `README lists ${usage}, which is not a command`).toBeDefined()
        listed.add(id)
        for (const flag of tokens.join(' ').match(/(?<![\w-])--?[a-z][\w-]*/g) ?? []) {
          const known = Object.values(command!.flags).some((f) => flag === `--${f.name}` || flag === `-${f.char}`)
          expect(known, `README: ${usage} names ${flag}, which ${id} does not have`).toBe(true)
        }
      }
    }
    expect([...listed].sort()).toEqual([...commands.keys()].sort())
  })

  const typos: Array<[string[], string]> = [
    [['cluster', 'creat', '-n', `${PREFIX}typo`], "did you mean 'cms cluster create'?"],
    [['job', 'stauts', '1', '-n', `${PREFIX}typo`], "did you mean 'cms job status'?"],
    [['clustr', 'list'], "did you mean 'cms cluster list'?"],
    [['clustr'], "did you mean 'cms cluster'?"],
    [['help', 'cluster', 'creat'], "did you mean 'cms help cluster create'?"],
    [['help', 'jbo'], "did you mean 'cms help job'?"],
    [['cluster', 'zzzz'], "run 'cms help cluster' for the list of commands"],
  ]

  it.each(typos)('a mistyped command or topic (%j): did you mean, exit 2, nothing run', async (args, hint) => {
    const before = await madeForNamesIn(args)
    const r = await cms(args, env)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(hint)
    expect(await madeForNamesIn(args)).toBe(before)
    expect(filesUnder(home)).toEqual([])
  })

  it('a mistyped command with --json: the error as JSON on stdout, exit 2', async () => {
    const r = await cms(['cluster', 'creat', '-n', `${PREFIX}typo`, '--json'], env)
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({error: {kind: 'usage', message: "unknown command 'cms cluster creat': did you mean 'cms cluster create'?"}})
  })

  it.each([
    ['a terminal', {}],
    ['a terminal with CI=true', {CI: 'true'}],
  ])('never prompts, even on %s', async (_label, extra) => {
    // `script` gives the command a pseudo-terminal as stdin: a prompt would wait there until the timeout.
    const started = Date.now()
    const r = await exec('script', ['-qec', `${process.execPath} ${join(ROOT, 'bin', 'run.js')} cluster creat -n ${PREFIX}typo`, '/dev/null'], {
      env: {...process.env, ...env, ...extra},
      timeout: 30_000,
    }).then(
      (ok) => ({code: 0, out: ok.stdout}),
      (error: {code?: number; stdout?: string; killed?: boolean}) => ({code: error.killed ? -1 : (error.code ?? -1), out: error.stdout ?? ''}),
    )
    expect(r.code, r.out).toBe(2)
    expect(r.out).toContain("did you mean 'cms cluster create'?")
    expect(r.out).not.toMatch(/\(Y\/n\)|\? .*›/)
    expect(Date.now() - started).toBeLessThan(20_000)
  })

  describe('cms autocomplete', () => {
    beforeAll(async () => {
      for (const shell of ['bash', 'zsh', 'fish'] as const) {
        const r = await cms(['autocomplete', shell], env)
        expect(r.code, r.stderr).toBe(0)
        writeFileSync(join(scriptDir, `cms.${shell}`), r.stdout)
      }
    })

    it.each(['bash', 'zsh', 'fish'] as const)('%s: the script parses and registers itself for cms', async (shell) => {
      const script = readFileSync(join(scriptDir, `cms.${shell}`), 'utf8')
      expect(script).toContain(`# cms completion for ${shell}.`)
      await exec(shell, shell === 'fish' ? ['--no-config', '-n', join(scriptDir, 'cms.fish')] : ['-n', join(scriptDir, `cms.${shell}`)])
      const registered = {
        bash: `source ${join(scriptDir, 'cms.bash')}; complete -p cms`,
        zsh: `autoload -Uz compinit; compinit -u -D; source ${join(scriptDir, 'cms.zsh')}; print -r -- $_comps[cms]`,
        fish: `source ${join(scriptDir, 'cms.fish')}; complete -c cms`,
      }[shell]
      const {stdout} = await exec(shell, shell === 'fish' ? ['--no-config', '-c', registered] : ['-c', registered])
      expect(stdout).toContain('_cms_complete')
    })

    it.each(['bash', 'zsh', 'fish'] as const)('%s completes topics, commands and flags', async (shell) => {
      expect(await shellComplete(shell, 'cms ', env)).toEqual(['autocomplete', 'cluster', 'help', 'image', 'job', 'notebook', 'serve'])
      expect(await shellComplete(shell, 'cms cluster cr', env)).toEqual(['create'])
      expect(await shellComplete(shell, 'cms job ', env)).toEqual(['kill', 'list', 'logs', 'rerun', 'status'])
      expect(await shellComplete(shell, 'cms cluster create --spa', env)).toEqual(['--spark-dist'])
      // Flag choices come in the order the flag lists them (fish sorts them).
      expect((await shellComplete(shell, 'cms cluster create -p ', env)).sort()).toEqual(['aws', 'docker', 'lxd', 'openstack', 'ssh'])
      expect((await shellComplete(shell, 'cms cluster create -e ', env)).sort()).toEqual(['hadoop', 'kubernetes', 'nomad', 'spark'])
      expect(await shellComplete(shell, 'cms help cluster ki', env)).toEqual(['kill'])
    })

    it('without SHELL named, uses $SHELL; an unknown shell is bad usage', async () => {
      const fromEnv = await cms(['autocomplete'], {...env, SHELL: '/usr/bin/fish'})
      expect(fromEnv.stdout).toBe(readFileSync(join(scriptDir, 'cms.fish'), 'utf8'))
      const unknown = await cms(['autocomplete'], {...env, SHELL: '/bin/tcsh'})
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain('name it, one of bash, zsh, fish')
    })

    it('-n completes the names of the clusters the providers know, bounded when Docker does not answer', async () => {
      // A Docker API that accepts connections and never answers, and one ssh cluster this machine has an access file for.
      const dir = mkdtempSync(join(tmpdir(), `cms-${PREFIX}hang-`))
      const socket = join(dir, 'docker.sock')
      const held: Socket[] = []
      const server: Server = createServer((s) => held.push(s))
      await new Promise<void>((resolve) => server.listen(socket, resolve))
      const slowHome = join(dir, 'home')
      mkdirSync(join(slowHome, 'access'), {recursive: true})
      const access = {name: `${PREFIX}slow`, provider: 'ssh', head: {host: '127.0.0.1', port: 22, user: 'nobody'}}
      writeFileSync(join(slowHome, 'access', `${PREFIX}slow.json`), JSON.stringify(access))
      try {
        const started = Date.now()
        const r = await cms(['__complete', '--', 'cluster', 'info', '-n', ''], {CMS_HOME: slowHome, DOCKER_HOST: `unix://${socket}`}, {timeoutMs: 30_000})
        const seconds = (Date.now() - started) / 1000
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toBe(`${PREFIX}slow\n`)
        expect(held.length).toBeGreaterThan(0) // it did ask Docker
        expect(seconds).toBeGreaterThanOrEqual(2.4)
        expect(seconds).toBeLessThan(10)
      } finally {
        for (const s of held) s.destroy()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        rmSync(dir, {recursive: true, force: true})
      }
    })
  })

  describe(`a real 1-host docker cluster ${CLUSTER}`, () => {
    const cluster = makeCmsHome()
    const clusterEnv = {CMS_HOME: cluster.home}

    beforeAll(async () => {
      await removeClusterContainers(CLUSTER)
      const r = await cms(['cluster', 'create', '-n', CLUSTER, '--hosts', '1', '--json'], clusterEnv)
      expect(r.code, r.stderr).toBe(0)
    })
    afterAll(async () => {
      await cms(['cluster', 'kill', '-n', CLUSTER, '--yes'], clusterEnv, {timeoutMs: 300_000})
      await removeClusterContainers(CLUSTER)
      cluster.cleanup()
    })

    it.each(['bash', 'zsh', 'fish'] as const)('%s offers its name after -n', async (shell) => {
      expect(await shellComplete(shell, 'cms cluster info -n ', clusterEnv)).toContain(CLUSTER)
      expect(await shellComplete(shell, `cms job list -n ${PREFIX}co`, clusterEnv)).toEqual([CLUSTER])
    })

    it('the key written at create is re-made and installed when deleted, and kill removes it', async () => {
      const key = join(cluster.home, 'keys', CLUSTER)
      expect(filesUnder(join(cluster.home, 'keys'))).toEqual([CLUSTER, `${CLUSTER}.pub`])
      rmSync(key)
      rmSync(`${key}.pub`)
      const info = await cms(['cluster', 'info', '-n', CLUSTER, '--json'], clusterEnv)
      expect(info.code, info.stderr).toBe(0)
      expect(JSON.parse(info.stdout).health).toBe('healthy')
      expect(existsSync(key)).toBe(true)
      const list = await cms(['cluster', 'list', '--json'], clusterEnv)
      expect(JSON.parse(list.stdout).clusters.find((c: {name: string}) => c.name === CLUSTER)?.masterStatus).toBe('ALIVE')
      const kill = await cms(['cluster', 'kill', '-n', CLUSTER, '--yes'], clusterEnv, {timeoutMs: 300_000})
      expect(kill.code, kill.stderr).toBe(0)
      expect(await labelledContainers(CLUSTER)).toEqual([])
      // `list` reached every cluster on this machine (other tests' too) and made keys for them: only this one's count.
      expect(filesUnder(join(cluster.home, 'keys')).filter((f) => f.startsWith(CLUSTER))).toEqual([])
    })
  })

  it('a create refused before any host exists (the Spark distribution cannot be downloaded) leaves no file in CMS_HOME', async () => {
    const refusedHome = mkdtempSync(join(tmpdir(), `cms-${PREFIX}refused-`))
    const distCache = mkdtempSync(join(tmpdir(), `cms-${PREFIX}dist-`))
    const name = `${PREFIX}refused`
    try {
      const r = await cms(['cluster', 'create', '-n', name, '--hosts', '1', '--spark-dist', 'http://127.0.0.1:9/spark.tgz'], {CMS_HOME: refusedHome, CMS_DIST_CACHE: distCache}, {timeoutMs: 120_000})
      expect(r.code, r.stderr).toBe(1)
      expect(r.stderr).toContain('cannot download the Spark distribution http://127.0.0.1:9/spark.tgz')
      expect(filesUnder(refusedHome)).toEqual([])
      expect(await labelledContainers(name)).toEqual([])
      expect(await docker('network', 'ls', '-q', '--filter', `name=cms-${name}`)).toBe('')
    } finally {
      await removeClusterContainers(name)
      rmSync(refusedHome, {recursive: true, force: true})
      rmSync(distCache, {recursive: true, force: true})
    }
  })
})
