import {html, type Html} from '../html.js'
import {csrfField} from '../layout.js'
import type {Session} from '../session.js'
import type {SubmitFields} from '../submit-form.js'

export interface ClusterChoice {
  name: string
  engine: string
  health: string
  freeCores?: number
  freeMemoryMb?: number
}

/** The Submit page: a spec form (app upload or URL, arguments, conf, env, files, resources) or a native jobfile. */
export function submitPage(input: {session: Session; clusters: ClusterChoice[]; values?: SubmitFields; errors?: Record<string, string[]>}): Html {
  const v = input.values ?? {}
  const errors = input.errors ?? {}
  const err = (field: string) => (errors[field] ? html`<p class="field-error" id="err-${field}" role="alert">${errors[field]!.join('; ')}</p>` : '')
  const described = (field: string) => (errors[field] ? html` aria-invalid="true" aria-describedby="err-${field}"` : '')
  const text = (field: keyof SubmitFields, label: string, hint = '', type = 'text') =>
    html`<div><label for="f-${field}">${label}${hint ? html` <span class="hint">${hint}</span>` : ''}</label><input id="f-${field}" name="${field}" type="${type}" value="${v[field] ?? ''}"${described(field)}>${err(field)}</div>`
  const area = (field: keyof SubmitFields, label: string, hint: string) =>
    html`<label for="f-${field}">${label} <span class="hint">${hint}</span></label><textarea id="f-${field}" name="${field}"${described(field)}>${v[field] ?? ''}</textarea>${err(field)}`
  return html`<h1>Submit a job</h1>
${errors.form ? html`<p class="error" role="alert">${errors.form.join('; ')}</p>` : ''}
<form method="post" action="/ui/submit" enctype="multipart/form-data">
${csrfField(input.session)}
<label for="f-cluster">Cluster</label>
<select id="f-cluster" name="cluster" required${described('cluster')}>
<option value="">choose...</option>
${input.clusters.map(
  (c) =>
    html`<option value="${c.name}"${c.name === v.cluster ? html` selected` : ''}>${c.name}: ${c.engine}, ${c.health}${c.freeCores !== undefined ? html`, ${c.freeCores} cores and ${Math.round((c.freeMemoryMb ?? 0) / 1024)} GiB free` : ''}</option>`,
)}
</select>${err('cluster')}
<fieldset><legend>What to run</legend>
<p><label class="hint"><input type="radio" name="mode" value="spec"${v.mode !== 'jobfile' ? html` checked` : ''}> a Spark app (the portable job spec)</label>
<label class="hint"><input type="radio" name="mode" value="jobfile"${v.mode === 'jobfile' ? html` checked` : ''}> a native jobfile (Nomad HCL, Kubernetes manifest)</label></p>
<div class="grid">
<div><label for="f-app">App file <span class="hint">.py or .jar</span></label><input id="f-app" name="app" type="file" accept=".py,.jar"></div>
${text('appUrl', 'or its URL', 'http(s)://...', 'text')}
${text('name', 'Name', 'optional')}
${text('mainClass', 'Main class', 'for a .jar')}
</div>
${area('args', 'Arguments', 'one per line')}
${area('conf', 'Spark conf', 'spark.key=value, one per line')}
${area('env', 'Environment', 'NAME=value, one per line')}
<label for="f-files">Files <span class="hint">shipped with the job (spark.files)</span></label><input id="f-files" name="files" type="file" multiple${described('files')}>${err('files')}
<div class="grid">
${text('driverCores', 'Driver cores', '', 'number')}${text('driverMemory', 'Driver memory', 'e.g. 1g')}
${text('executorInstances', 'Executors', '', 'number')}${text('executorCores', 'Executor cores', '', 'number')}${text('executorMemory', 'Executor memory', 'e.g. 2g')}
</div>
<label for="f-jobfileText">Jobfile <span class="hint">paste it, or upload it below</span></label><textarea id="f-jobfileText" name="jobfileText"${described('jobfileText')}>${v.jobfileText ?? ''}</textarea>${err('jobfileText')}
<div class="grid">${text('jobfileName', 'Jobfile name', 'job.hcl, job.yaml, ...')}<div><label for="f-jobfile">Jobfile upload</label><input id="f-jobfile" name="jobfile" type="file" accept=".hcl,.nomad,.json,.yaml,.yml"></div></div>
</fieldset>
<div class="grid">${text('priority', 'Priority', '0-1000', 'number')}${text('retries', 'Retries', '0-10', 'number')}</div>
<p><button type="submit">Submit</button></p>
</form>`
}
