import {z} from 'zod'
import {jobSpecSchema} from '../../jobs/spec.js'
import {scheduleSchema} from '../schedules/schedule-input.js'
import {sourceSchema} from '../sources/config.js'
import {classicTaskSchema, taskSchema} from '../task-input.js'

const json = (schema: z.ZodType) => z.toJSONSchema(schema, {io: 'input', unrepresentable: 'any', target: 'openapi-3.0'}) as Record<string, unknown>

const ref = (name: string) => ({$ref: `#/components/schemas/${name}`})
const error = {description: 'One line naming the problem', content: {'application/json': {schema: ref('Error')}}}
const ok = (description: string, schema?: object) => ({description, ...(schema ? {content: {'application/json': {schema}}} : {})})
const keyed = {security: [{apiKey: []}]}
const idParam = [{name: 'id', in: 'path', required: true, schema: {type: 'string'}}]
const nameParam = [{name: 'name', in: 'path', required: true, schema: {type: 'string'}}]
const errors = {401: error, 403: error}

/**
 * The OpenAPI 3 document, built from the same zod schemas that check requests (the task, the classic form, the
 * portable job spec), so the two cannot drift apart.
 */
export function openApiDocument(version: string): object {
  return {
    openapi: '3.0.3',
    info: {title: 'cms serve', version, description: 'A durable job queue in front of every cms cluster: tasks, attempts on engines, the audit trail.'},
    components: {
      securitySchemes: {apiKey: {type: 'http', scheme: 'bearer', description: "An API key from 'cms serve keys create'"}},
      schemas: {
        Task: json(taskSchema),
        ClassicTask: json(classicTaskSchema),
        JobSpec: json(jobSpecSchema),
        Schedule: json(scheduleSchema),
        Source: json(sourceSchema),
        Error: {type: 'object', properties: {error: {type: 'string'}}, required: ['error']},
      },
    },
    paths: {
      '/task': {
        post: {
          ...keyed,
          summary: 'Queue one task (JSON, or multipart: the task in a field named task, the spec\'s files as file parts)',
          requestBody: {
            required: true,
            content: {
              'application/json': {schema: {oneOf: [ref('Task'), ref('ClassicTask')]}},
              'multipart/form-data': {schema: {type: 'object', properties: {task: {type: 'string', description: 'The task as JSON'}}, additionalProperties: {type: 'string', format: 'binary'}}},
            },
          },
          responses: {201: ok('Queued'), 200: ok('A task with this id exists: it is returned, not queued again'), 422: error, 413: error, ...errors},
        },
      },
      '/tasks': {
        post: {...keyed, summary: 'Queue many tasks in one transaction (one bad task: none is queued)', requestBody: {required: true, content: {'application/json': {schema: {type: 'object', properties: {tasks: {type: 'array', items: ref('Task')}}}}}}, responses: {201: ok('Queued'), 200: ok('Every task existed already'), 422: error, ...errors}},
        get: {
          ...keyed,
          summary: 'Tasks, newest first',
          parameters: ['state', 'cluster', 'name', 'since', 'limit', 'cursor'].map((name) => ({name, in: 'query', required: false, schema: {type: 'string'}})),
          responses: {200: ok('A page of tasks and the cursor of the next'), 422: error, ...errors},
        },
      },
      '/task/{id}': {
        get: {...keyed, summary: 'A task: state, attempts, queue position and what it waits for', parameters: idParam, responses: {200: ok('The task'), 404: error, ...errors}},
        delete: {
          ...keyed,
          summary: 'Cancel a queued task; kill a running one on its engine. With ?purge=1: delete a finished task and its history',
          parameters: [...idParam, {name: 'purge', in: 'query', required: false, schema: {type: 'string', enum: ['1', 'true']}}],
          responses: {200: ok('Killed, or deleted'), 404: error, 409: error, 502: error, ...errors},
        },
      },
      '/schedules': {
        post: {...keyed, summary: 'Create a schedule: a task queued on a cron expression in a time zone', requestBody: {required: true, content: {'application/json': {schema: ref('Schedule')}}}, responses: {201: ok('Created'), 409: error, 422: error, ...errors}},
        get: {...keyed, summary: 'Every schedule with its next run', responses: {200: ok('Schedules'), ...errors}},
      },
      '/schedules/{name}': {
        get: {...keyed, summary: 'A schedule, its next run and its newest runs', parameters: nameParam, responses: {200: ok('The schedule'), 404: error, ...errors}},
        put: {...keyed, summary: 'Create or replace a schedule (the next run is computed afresh)', parameters: nameParam, requestBody: {required: true, content: {'application/json': {schema: ref('Schedule')}}}, responses: {200: ok('Replaced'), 201: ok('Created'), 422: error, ...errors}},
        delete: {...keyed, summary: 'Delete a schedule (its runs stay tasks)', parameters: nameParam, responses: {200: ok('Deleted'), 404: error, ...errors}},
      },
      '/schedules/{name}/run': {post: {...keyed, summary: 'Run a schedule now (an ordinary task linked to it)', parameters: nameParam, responses: {201: ok('The run\'s task'), 404: error, 422: error, ...errors}}},
      '/task/{id}/events': {get: {...keyed, summary: 'The audit trail of a task', parameters: idParam, responses: {200: ok('Events, oldest first'), 404: error, ...errors}}},
      '/task/{id}/logs': {
        get: {...keyed, summary: "The engine's logs of the task's job (follow=1: until it ends)", parameters: [...idParam, {name: 'follow', in: 'query', required: false, schema: {type: 'string', enum: ['0', '1']}}], responses: {200: {description: 'Plain text', content: {'text/plain': {schema: {type: 'string'}}}}, 404: error, 409: error, ...errors}},
      },
      '/task/{id}/rerun': {post: {...keyed, summary: 'Run a finished task again', parameters: idParam, responses: {200: ok('Queued again'), 404: error, 409: error, ...errors}}},
      '/task/{id}/priority': {post: {...keyed, summary: 'Change the priority of a task that has not finished', parameters: idParam, requestBody: {required: true, content: {'application/json': {schema: {type: 'object', properties: {priority: {type: 'integer', minimum: 0, maximum: 1000}}, required: ['priority']}}}}, responses: {200: ok('The task'), 404: error, 409: error, 422: error, ...errors}}},
      '/health': {get: {summary: 'Whether the database answers and the loops run (no key needed)', responses: {200: ok('Healthy'), 500: ok('Not healthy, with the reason')}}},
      '/mgmt/clusters': {get: {...keyed, summary: 'Every cluster the service may use: engine, health, capacity, its tasks, its autoscaling (--autoscale)', responses: {200: ok('Clusters'), ...errors}}},
      '/mgmt/clusters/{name}/events': {get: {...keyed, summary: "The cluster's scaling actions (--autoscale), newest first", parameters: nameParam, responses: {200: ok('Events'), ...errors}}},
      '/mgmt/queue': {get: {...keyed, summary: 'Queue depth by cluster and priority, oldest wait, running count', responses: {200: ok('The queue'), ...errors}}},
      '/mgmt/sources': {
        get: {...keyed, summary: 'The job sources (origin: the --sources file, or the API): where each reads, its last look and problem, tasks queued and refused', responses: {200: ok('The sources'), ...errors}},
        post: {...keyed, summary: 'Add a job source (admin), as an entry of the sources file: stored, and run by every server on the database', requestBody: {required: true, content: {'application/json': {schema: ref('Source')}}}, responses: {201: ok('Its status'), 409: error, 422: error, ...errors}},
      },
      '/mgmt/sources/{name}': {delete: {...keyed, summary: 'Remove a job source made through the API (admin); its loop stops', parameters: nameParam, responses: {200: ok('Removed'), 404: error, 409: error, ...errors}}},
      '/mgmt/keys': {
        get: {...keyed, summary: 'API keys (admin)', responses: {200: ok('Keys, without their secrets'), ...errors}},
        post: {...keyed, summary: 'Create an API key (admin); the key is in this response only', responses: {201: ok('The key'), 409: error, 422: error, ...errors}},
      },
      '/mgmt/keys/{name}': {delete: {...keyed, summary: 'Revoke an API key (admin)', parameters: [{name: 'name', in: 'path', required: true, schema: {type: 'string'}}], responses: {200: ok('Revoked'), 404: error, ...errors}}},
      '/metrics': {get: {...keyed, summary: 'Prometheus metrics', responses: {200: {description: 'Prometheus text', content: {'text/plain': {schema: {type: 'string'}}}}, ...errors}}},
      '/openapi.json': {get: {...keyed, summary: 'This document', responses: {200: ok('OpenAPI 3'), ...errors}}},
    },
  }
}
