import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {resolveArtifact} from '../engines/artifact.js'
import {HEAD_PYTHON_SCRIPT, jupyterArchive, JUPYTERLAB_VERSION, parseHeadPython} from '../notebook/jupyter-dist.js'
import type {ImageBuildReport} from '../output/results.js'
import {buildImage, defaultImageTag, imageDir, type RuntimeImageRequest} from './image-build.js'
import {buildSparkImage} from './spark-image.js'

/**
 * The notebook image for Kubernetes (images/notebook): FROM the Spark image (built first, or kept when built from
 * the same inputs), plus the JupyterLab archive for that image's Python, cached by content like the others.
 */
export async function buildNotebookImage(req: RuntimeImageRequest): Promise<Omit<ImageBuildReport, 'image'>> {
  const started = Date.now()
  const spark = await buildSparkImage({...req, tag: undefined})
  const {stdout} = await promisify(execFile)('docker', ['run', '--rm', '--entrypoint', 'sh', spark.tag, '-c', HEAD_PYTHON_SCRIPT])
  const archive = await jupyterArchive(parseHeadPython(stdout), req.log)
  const kind = {what: 'JupyterLab', flag: 'cms image build notebook', envVar: 'CMS_DIST_CACHE', extensions: ['.tgz' as const]}
  const dist = await resolveArtifact(archive, kind, {log: req.log, probe: 'jupyterlab/__init__.py'})
  const built = await buildImage({
    tag: req.tag ?? defaultImageTag('cms/notebook', 'Spark', spark.sparkVersion, 'spark-4.3.0-bin-hadoop3.tgz'),
    contextDir: req.contextDir ?? imageDir('notebook'),
    contextFiles: ['Dockerfile'],
    dist: {path: dist.path!, bytes: dist.bytes, id: dist.id},
    distName: 'jupyterlab.tgz',
    baseImage: spark.tag,
    labels: {'org.apache.spark.version': spark.sparkVersion ?? 'unknown', 'org.jupyter.jupyterlab.version': JUPYTERLAB_VERSION},
    log: req.log,
    docker: req.docker,
  })
  return {...built, sparkVersion: spark.sparkVersion, seconds: (Date.now() - started) / 1000}
}
