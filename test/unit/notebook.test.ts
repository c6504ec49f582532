import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {HadoopEngine} from '../../src/engines/hadoop/engine.js'
import type {HostContext} from '../../src/engines/host-context.js'
import {newestImageTag} from '../../src/engines/kubernetes/job-service-factory.js'
import {notebookObjects, notebookSubmitArgs} from '../../src/engines/kubernetes/notebook.js'
import {SparkEngine} from '../../src/engines/spark/engine.js'
import {HEAD_PYTHON_SCRIPT, jupyterArchiveName, JUPYTERLAB_VERSION, jupyterPipArgs, jupyterTarArgs, parseHeadPython} from '../../src/notebook/jupyter-dist.js'
import {loginLink, parseServerInfo} from '../../src/notebook/server-info.js'
import * as s from '../../src/notebook/server-scripts.js'
import {renderNotebook} from '../../src/output/render.js'

const spark: s.NotebookSpark = {
  sparkHome: "/home/it's me/.cms/dist/abc/spark-4.3.0",
  env: {SPARK_CONF_DIR: '/home/x/.cms/clusters/demo/conf'},
  submitArgs: ['--master', 'spark://10.0.0.2:7077', ...s.driverOnHead('10.0.0.2'), '--conf', 'spark.app.name=a b'],
}

const shlexSplit = (text: string): string[] =>
  JSON.parse(execFileSync('python3', ['-c', 'import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))', text], {encoding: 'utf8'}))

describe('the JupyterLab archive', () => {
  it('is fetched by pip as wheels for the head\'s CPython and machine, pinned, into a folder of its own', () => {
    const args = jupyterPipArgs('/cache/.w/jupyterlab', {version: '3.11', machine: 'x86_64'})
    expect(args.slice(0, 3)).toEqual(['-m', 'pip', 'install'])
    expect(args).toContain('--only-binary=:all:')
    expect(args.join(' ')).toContain('--target /cache/.w/jupyterlab')
    expect(args.join(' ')).toContain('--platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311')
    expect(args.at(-1)).toBe(`jupyterlab==${JUPYTERLAB_VERSION}`)
    expect(jupyterPipArgs('/t', {version: '3.12', machine: 'aarch64'}).join(' ')).toContain('--platform manylinux2014_aarch64 --python-version 3.12 --implementation cp --abi cp312')
    expect(jupyterArchiveName({version: '3.12', machine: 'aarch64'})).toBe(`jupyterlab-${JUPYTERLAB_VERSION}-py3.12-manylinux-aarch64.tgz`)
  })

  it('asks the head for its Python and machine, and refuses what it cannot name wheels for', () => {
    expect(parseHeadPython(execFileSync('bash', ['-c', HEAD_PYTHON_SCRIPT], {encoding: 'utf8'}))).toMatchObject({version: expect.stringMatching(/^3\.\d+$/)})
    expect(parseHeadPython('3.11 x86_64\n')).toEqual({version: '3.11', machine: 'x86_64'})
    expect(() => parseHeadPython('3.11; rm -rf / x86_64')).toThrow(/unexpected Python version/)
    expect(() => parseHeadPython('2.7 x86_64')).toThrow(/unexpected Python version/)
    expect(() => parseHeadPython('3.11 riscv64')).toThrow(/this head is "riscv64"/)
    expect(() => jupyterPipArgs('/t', {version: '3.11', machine: 'sparc'})).toThrow(/sparc/)
  })

  it('is packed reproducibly', () => {
    expect(jupyterTarArgs('/w', 'jupyterlab-4', '/w/out.tgz')).toEqual(['-C', '/w', '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-czf', '/w/out.tgz', 'jupyterlab-4'])
  })
})

describe('the server on the head', () => {
  const layout = s.notebookLayout("/home/it's me", 'demo')

  it('keeps its own files apart from the notebooks, both under the cluster folder', () => {
    expect(layout.serverDir).toBe("/home/it's me/.cms/clusters/demo/notebook-server")
    expect(layout.notebooksDir).toBe("/home/it's me/.cms/clusters/demo/notebooks")
    expect(layout.runtimeDir.startsWith(layout.serverDir)).toBe(true)
  })

  it('listens on the private address with the notebooks as its root, and names no token (Jupyter makes a random one)', () => {
    const cmd = s.serverCommand(layout, '10.0.0.2')
    expect(cmd.slice(0, 3)).toEqual(['python3', '-m', 'jupyterlab'])
    expect(cmd).toContain('--ip=10.0.0.2')
    expect(cmd).toContain(`--ServerApp.root_dir=${layout.notebooksDir}`)
    expect(cmd.join(' ')).not.toMatch(/token|password|0\.0\.0\.0/i)
  })

  it('hands the kernels the cluster\'s Spark: PYSPARK_SUBMIT_ARGS as PySpark\'s launcher splits it', () => {
    const env = s.serverEnvironment(layout, '/d/jl', spark)
    expect(env).toMatchObject({SPARK_HOME: spark.sparkHome, SPARK_CONF_DIR: spark.env.SPARK_CONF_DIR, PYSPARK_PYTHON: 'python3', JUPYTERLAB_DIR: '/d/jl/share/jupyter/lab', JUPYTER_RUNTIME_DIR: layout.runtimeDir})
    expect(shlexSplit(env.PYSPARK_SUBMIT_ARGS!)).toEqual([...spark.submitArgs, 'pyspark-shell'])
  })

  it('the engines wire the driver on the head: standalone to the master, hadoop to YARN in client mode', async () => {
    const head = {facts: {home: '/home/u'}, address: '10.0.0.2', session: {}, host: {}} as unknown as HostContext
    const standalone = await new SparkEngine().notebookSpark({cluster: 'demo', head, settings: {sparkHome: '/s'}})
    expect(standalone).toEqual({sparkHome: '/s', env: {SPARK_CONF_DIR: '/home/u/.cms/clusters/demo/conf'}, submitArgs: ['--master', 'spark://10.0.0.2:7077', '--conf', 'spark.driver.host=10.0.0.2', '--conf', 'spark.driver.bindAddress=10.0.0.2']})
    const yarn = await new HadoopEngine().notebookSpark({cluster: 'lake', head, settings: {sparkHome: '/s'}})
    expect(yarn.submitArgs.slice(0, 4)).toEqual(['--master', 'yarn', '--deploy-mode', 'client'])
    expect(yarn.env).toEqual({SPARK_CONF_DIR: '/home/u/.cms/clusters/lake/spark-conf', HADOOP_CONF_DIR: '/home/u/.cms/clusters/lake/hadoop-conf', YARN_CONF_DIR: '/home/u/.cms/clusters/lake/hadoop-conf'})
    await expect(new HadoopEngine().notebookSpark({cluster: 'lake', head, settings: {}})).rejects.toThrow(/does not say where Spark is/)
  })
})

describe('the server scripts, run', () => {
  // A stand-in JupyterLab (python3 -m jupyterlab from the shipped folder) that writes its runtime record like
  // Jupyter's and waits; the scripts start, find, reattach to and stop it as they would the real one.
  const root = mkdtempSync(join(tmpdir(), 'cms-notebook-'))
  afterAll(() => {
    execFileSync('bash', ['-c', s.stopServerScript(s.notebookLayout(join(root, 'home'), 'demo'))])
    rmSync(root, {recursive: true, force: true})
  })
  const layout = s.notebookLayout(join(root, 'home'), 'demo')
  const jupyterRoot = join(root, 'jl')
  const sparkHome = join(root, 'spark')
  const bin = join(root, 'bin')
  mkdirSync(join(jupyterRoot, 'jupyterlab'), {recursive: true})
  mkdirSync(join(sparkHome, 'python', 'lib'), {recursive: true})
  mkdirSync(bin)
  writeFileSync(join(sparkHome, 'python', 'lib', 'py4j-0.10.9.9-src.zip'), '')
  symlinkSync(execFileSync('bash', ['-c', 'command -v python3'], {encoding: 'utf8'}).trim(), join(bin, 'python3'))
  writeFileSync(
    join(jupyterRoot, 'jupyterlab', '__main__.py'),
    [
      'import json, os, sys, time',
      'port = int([a for a in sys.argv if a.startswith("--port=")][0][7:])',
      'env = {k: os.environ.get(k) for k in ("PYSPARK_SUBMIT_ARGS", "SPARK_HOME", "PYTHONPATH")}',
      'json.dump({"pid": os.getpid(), "port": port, "base_url": "/", "token": "t0k", "env": env}, open(os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], "jpserver-%d.json" % os.getpid()), "w"))',
      'time.sleep(300)',
    ].join('\n'),
  )
  const sh = (script: string) => execFileSync('bash', ['-c', script], {encoding: 'utf8', env: {...process.env, PATH: `${bin}:${process.env.PATH}`}}).trim()
  const info = async () => {
    for (let i = 0; i < 50; i++) {
      const found = parseServerInfo(sh(s.serverInfoScript(layout)))
      if (found) return found
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error('no runtime record')
  }

  it('starts once, reports the runtime record, stops, and keeps the notebooks', async () => {
    expect(sh(s.serverInfoScript(layout))).toBe(s.NOT_RUNNING)
    expect(sh(s.startServerScript(layout, jupyterRoot, '127.0.0.1', {...spark, sparkHome}))).toBe('started')
    const first = await info()
    expect(first.port).toBe(s.JUPYTER_PORT)
    expect(sh(s.startServerScript(layout, jupyterRoot, '127.0.0.1', {...spark, sparkHome}))).toBe('running')
    const record = JSON.parse(sh(s.serverInfoScript(layout))) as {env: Record<string, string>}
    expect(record.env.PYTHONPATH).toBe(`${jupyterRoot}:${sparkHome}/python:${sparkHome}/python/lib/py4j-0.10.9.9-src.zip`)
    expect(shlexSplit(record.env.PYSPARK_SUBMIT_ARGS!).at(-1)).toBe('pyspark-shell')
    writeFileSync(join(layout.notebooksDir, 'kept.ipynb'), '{}')
    expect(sh(s.stopServerScript(layout))).toBe('stopped')
    expect(sh(s.serverInfoScript(layout))).toBe(s.NOT_RUNNING)
    // Gone, or a zombie its (re)parent has not reaped yet.
    const stat = existsSync(`/proc/${first.pid}/stat`) ? readFileSync(`/proc/${first.pid}/stat`, 'utf8') : ''
    expect(stat === '' || / Z /.test(stat)).toBe(true)
    expect(existsSync(layout.serverDir)).toBe(false)
    expect(existsSync(join(layout.notebooksDir, 'kept.ipynb'))).toBe(true)
    expect(sh(s.stopServerScript(layout))).toBe('not running')
  })

  it('fails to start when the Spark runtime has no Python side', () => {
    expect(() => sh(s.startServerScript(layout, jupyterRoot, '127.0.0.1', {...spark, sparkHome: join(root, 'nospark')}))).toThrow(/no py4j zip/)
  })
})

describe('the login link', () => {
  it('is Jupyter\'s, at the local end of the tunnel', () => {
    const info = parseServerInfo('{"pid": 7, "port": 8889, "base_url": "/", "token": "abc", "url": "http://10.0.0.2:8889/"}')!
    expect(info).toEqual({pid: 7, port: 8889, baseUrl: '/', token: 'abc'})
    expect(loginLink(info, 40123)).toBe('http://127.0.0.1:40123/lab?token=abc')
    expect(loginLink({...info, baseUrl: '/jl/'}, 1)).toBe('http://127.0.0.1:1/jl/lab?token=abc')
  })

  it('is absent while the server starts or when none runs', () => {
    expect(parseServerInfo('')).toBeUndefined()
    expect(parseServerInfo(s.NOT_RUNNING)).toBeUndefined()
    expect(parseServerInfo('{"pid": 1}')).toBeUndefined()
    expect(parseServerInfo('{not json')).toBeUndefined()
  })

  it('is what the command prints, and --stop says the notebooks stay', () => {
    const base = {cluster: 'demo', engine: 'spark', notebooks: '/h/.cms/clusters/demo/notebooks'}
    expect(renderNotebook({...base, state: 'started', url: 'http://127.0.0.1:1/lab?token=abc', remote: '10.0.0.2:8888'})).toContain('\n    http://127.0.0.1:1/lab?token=abc')
    expect(renderNotebook({...base, state: 'stopped'})).toBe('JupyterLab on demo: stopped (the notebooks stay: /h/.cms/clusters/demo/notebooks)')
  })
})

describe('the notebook on Kubernetes', () => {
  const input = {namespace: 'default', image: 'cms/notebook:4.3.0', sparkImage: 'cms/spark:4.3.0', storage: '1Gi'}

  it('runs JupyterLab as a pod of the notebook image, as the namespace\'s Spark service account, its notebooks on a claim', () => {
    const [claim, secret, pod] = notebookObjects(input, 's3cret') as Array<Record<string, any>>
    expect(claim).toMatchObject({kind: 'PersistentVolumeClaim', metadata: {name: 'cms-notebook', namespace: 'default'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}})
    expect(claim.spec.storageClassName).toBeUndefined() // the default StorageClass
    expect(secret).toMatchObject({kind: 'Secret', metadata: {name: 'cms-notebook-token'}, data: {token: Buffer.from('s3cret').toString('base64')}})
    expect(pod.spec.serviceAccountName).toBe('cms-spark')
    const c = pod.spec.containers[0]
    expect(c).toMatchObject({image: 'cms/notebook:4.3.0', imagePullPolicy: 'Never'})
    expect(c.command).toContain('--ip=0.0.0.0')
    // The token comes from the Secret, never from the pod's spec.
    expect(JSON.stringify(pod)).not.toContain('s3cret')
    expect(c.env.find((e: {name: string}) => e.name === 'JUPYTER_TOKEN').valueFrom).toEqual({secretKeyRef: {name: 'cms-notebook-token', key: 'token'}})
    expect(pod.spec.volumes).toEqual([{name: 'notebooks', persistentVolumeClaim: {claimName: 'cms-notebook'}}])
  })

  it('wires the kernels\' drivers to the API in client mode, at the pod\'s address, executors of the Spark image', () => {
    const args = notebookSubmitArgs(input)
    expect(args.slice(0, 4)).toEqual(['--master', 'k8s://https://kubernetes.default.svc:443', '--deploy-mode', 'client'])
    const conf = Object.fromEntries(args.filter((_, i) => args[i - 1] === '--conf').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
    expect(conf).toMatchObject({
      'spark.kubernetes.container.image': 'cms/spark:4.3.0',
      'spark.driver.host': '$(CMS_POD_IP)',
      'spark.kubernetes.driver.pod.name': '$(CMS_POD_NAME)',
      'spark.kubernetes.executor.enableApiWatcher': 'false',
    })
    const [, , pod] = notebookObjects(input, 't') as Array<Record<string, any>>
    const submit = pod.spec.containers[0].env.find((e: {name: string}) => e.name === 'PYSPARK_SUBMIT_ARGS').value
    expect(shlexSplit(submit)).toEqual([...args, 'pyspark-shell'])
  })

  it('takes the newest tag of a repository among the node\'s images', () => {
    const refs = ['docker.io/cms/notebook:4.9.0', 'docker.io/cms/notebook:4.10.0', 'docker.io/cms/spark:5.0.0', 'sha256:abc', '']
    expect(newestImageTag(refs, 'docker.io/cms/notebook')).toBe('4.10.0')
    expect(newestImageTag(refs, 'docker.io/cms/hadoop')).toBeUndefined()
  })
})
