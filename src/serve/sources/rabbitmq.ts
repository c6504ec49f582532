import {createHash} from 'node:crypto'
import amqp, {type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage} from 'amqplib'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import type {NewTask} from '../store/store.js'
import {newTaskId, TASK_ID_RE} from '../task-input.js'
import type {RabbitSourceConfig} from './config.js'
import {PolledSource, type SourceHost} from './source.js'
import {redactUrl} from '../redact-url.js'
import {taskOfJson} from './task-file.js'

/** Completion events published per step at most (then the next step goes on). */
const EVENTS_PER_STEP = 1000
/** A broker that cannot be reached is tried again after the interval, doubled per failure, up to this. */
const MAX_BACKOFF_MS = 60_000
/** A larger message is refused (as a task file is). */
const MAX_MESSAGE_BYTES = 1024 * 1024
/** Heartbeats (s) unless the URL sets its own: a broker gone without closing the connection is noticed. */
const HEARTBEAT_S = 30

/**
 * The id of a message's task (its idempotency key): the task's own `id` when it gives one; else, when the publisher
 * set the AMQP message_id, the source's name and that id (hashed when it is no plain task id), so a message that
 * comes again (a crash before its ack, a publisher's retry) is one task; else a fresh id. Pure.
 */
export function messageTaskId(source: string, ownId: unknown, messageId: unknown, fresh: () => string = newTaskId): string {
  if (typeof ownId === 'string' && ownId !== '') return ownId
  if (typeof messageId === 'string' && messageId !== '') {
    const plain = `${source}-${messageId}`
    return TASK_ID_RE.test(plain) ? plain : `${source}-m${createHash('sha256').update(messageId).digest('hex').slice(0, 24)}`
  }
  return fresh()
}

/** The URL to connect with: the configured one, with heartbeats on unless it says otherwise. */
export function connectUrl(url: string): string {
  const u = new URL(url)
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(HEARTBEAT_S))
  return u.toString()
}

/** How long to wait before connecting again after `failures` failed tries in a row. Pure. */
export function reconnectDelayMs(intervalMs: number, failures: number): number {
  return failures <= 0 ? 0 : Math.min(MAX_BACKOFF_MS, intervalMs * 2 ** Math.min(failures - 1, 16))
}

/**
 * A RabbitMQ queue (AMQP 0-9-1) as a source: each message (a task as POST /task takes it, or a bare job spec, as
 * JSON) becomes a task and is acknowledged only once the task is in the database: a crash in between brings the
 * message again, and its task id keeps it one task (see messageTaskId). A refused message is rejected without
 * requeue (to the queue's dead-letter exchange, if it has one) and its reason published to `exchange` as
 * `task.refused`; a database error requeues it. Each step checks the connection (reconnecting with backoff) and
 * publishes the completion events of the source's tasks to `exchange` (`task.succeeded`, `task.dead`,
 * `task.killed`) on a confirm channel, at least once: a cursor in the database moves past an event only once the
 * broker has confirmed it.
 */
export class RabbitSource extends PolledSource {
  private model?: ChannelModel
  private consumer?: Channel
  private publisher?: ConfirmChannel
  /** The connection or a channel went away (or a message could not be stored): connect again on the next step. */
  private broken = false
  private closing = false
  private failures = 0
  private nextTryAt = 0
  /** Messages are taken one at a time, in order of delivery. */
  private queue: Promise<void> = Promise.resolve()

  constructor(
    readonly config: RabbitSourceConfig,
    private readonly host: SourceHost,
    private readonly log: (line: string) => void,
  ) {
    super(config.name, config.intervalMs, {kind: 'rabbitmq', from: `${redactUrl(config.url)} queue ${config.queue}`}, log)
  }

  async step(now = Date.now()): Promise<void> {
    try {
      if (this.broken || !this.model) {
        if (now < this.nextTryAt) return
        await this.disconnect()
        await this.connect()
      }
      await this.publishCompletions()
      this.failures = 0
      this.health.ok()
    } catch (error) {
      // The broker is down, refuses us, or the queue is missing: reported, and tried again after a backoff.
      this.failures++
      this.nextTryAt = Date.now() + reconnectDelayMs(this.config.intervalMs, this.failures)
      this.broken = true
      this.health.fail(oneLine(error))
    }
  }

  override async close(): Promise<void> {
    this.closing = true
    await this.disconnect()
  }

  private async connect(): Promise<void> {
    const {url, queue, exchange, declare, prefetch} = this.config
    this.broken = false
    const model = await amqp.connect(connectUrl(url), {timeout: 10_000, clientProperties: {connection_name: `cms serve source ${this.config.name}`}})
    this.model = model
    const lost = (what: string) => (error?: Error) => {
      if (this.closing || this.model !== model || this.broken) return
      this.broken = true
      this.health.fail(`${what}${error ? `: ${oneLine(error)}` : ' closed'}`)
    }
    model.on('error', lost('connection'))
    model.on('close', lost('connection'))
    const publisher = await model.createConfirmChannel()
    publisher.on('error', lost('publishing channel'))
    publisher.on('close', lost('publishing channel'))
    this.publisher = publisher
    if (exchange) {
      if (declare) await publisher.assertExchange(exchange, 'topic', {durable: true})
      else await publisher.checkExchange(exchange)
      // The cursor exists before the first message is taken: every task of this source gets its completion event.
      await this.host.sourceStore.cursor(this.config.name)
    }
    const consumer = await model.createChannel()
    consumer.on('error', lost('consuming channel'))
    consumer.on('close', lost('consuming channel'))
    this.consumer = consumer
    if (declare) await consumer.assertQueue(queue, {durable: true})
    else await consumer.checkQueue(queue)
    await consumer.prefetch(prefetch)
    await consumer.consume(queue, (msg) => {
      if (!msg) return lost('consumer')(new Error('the broker cancelled the consumer (queue deleted?)'))
      this.queue = this.queue.then(() => this.take(consumer, msg))
    })
  }

  private async disconnect(): Promise<void> {
    const model = this.model
    this.model = this.consumer = this.publisher = undefined
    await this.queue
    await model?.close().catch(() => undefined)
  }

  /** One message: stored as a task then acked; refused (rejected, reason published); or requeued on a database error. */
  private async take(channel: Channel, msg: ConsumeMessage): Promise<void> {
    // Delivered on a channel that is closing: not acked, so the broker gives it again on the next connection.
    if (channel !== this.consumer || this.broken) return
    const messageId = msg.properties.messageId as unknown
    const label = typeof messageId === 'string' && messageId !== '' ? `message ${messageId}` : `message #${msg.fields.deliveryTag}`
    try {
      let task: NewTask
      let raw: Record<string, unknown>
      try {
        if (msg.content.length > MAX_MESSAGE_BYTES) throw new UsageError(`task: the message is larger than ${MAX_MESSAGE_BYTES} bytes`)
        raw = taskOfJson(msg.content.toString('utf8'), this.config.cluster, 'message')
        ;[task] = (await this.host.prepare([{raw}], false)) as [NewTask]
      } catch (error) {
        if (!(error instanceof UsageError || error instanceof ApiError)) throw error
        return await this.refuse(channel, msg, label, error.message)
      }
      const id = messageTaskId(this.config.name, raw.id, messageId)
      const [stored] = await this.host.store.insertTasks([{...task, id, source: this.config.name, note: `from ${label} of queue ${this.config.queue} (source ${this.config.name})`}], `source:${this.config.name}`)
      if (stored!.created) this.host.queued()
      channel.ack(msg)
      if (stored!.created) this.health.counts.queued++
    } catch (error) {
      // The database failed, not the message: it goes back to the queue, and this source takes nothing more
      // until the next step connects again (no fast loop of redeliveries while the database is down).
      this.health.fail(`${label}: ${oneLine(error)}`)
      this.broken = true
      try {
        channel.nack(msg, false, true)
        await channel.close()
      } catch {
        // The channel is gone already: the broker requeues what was not acked.
      }
    }
  }

  private async refuse(channel: Channel, msg: ConsumeMessage, label: string, why: string): Promise<void> {
    this.health.counts.refused++
    this.log(`source ${this.config.name}: ${label} refused: ${why}`)
    if (this.config.exchange && this.publisher) {
      const body = {event: 'task.refused', at: new Date().toISOString(), source: this.config.name, queue: this.config.queue, ...(msg.properties.messageId ? {messageId: String(msg.properties.messageId)} : {}), reason: why}
      try {
        this.publisher.publish(this.config.exchange, 'task.refused', Buffer.from(JSON.stringify(body)), {persistent: true, contentType: 'application/json', type: 'task.refused'})
        await this.publisher.waitForConfirms()
      } catch (error) {
        this.log(`source ${this.config.name}: could not publish why ${label} was refused: ${oneLine(error)}`)
      }
    }
    channel.nack(msg, false, false)
  }

  /** The source's tasks' moves into a final state since the cursor, published then confirmed, then the cursor moved. */
  private async publishCompletions(): Promise<void> {
    const {exchange, name} = this.config
    const publisher = this.publisher
    if (!exchange || !publisher) return
    const store = this.host.sourceStore
    let cursor = await store.cursor(name)
    for (let published = 0; published < EVENTS_PER_STEP; ) {
      const events = await store.completions(name, cursor, 100)
      if (events.length === 0) return
      for (const e of events) {
        const state = e.to_state.toLowerCase()
        const task = await this.host.task(e.task_id).catch(() => ({id: e.task_id}))
        const body = {event: `task.${state}`, at: new Date(e.at).toISOString(), state: e.to_state, ...(e.detail ? {detail: e.detail} : {}), source: name, task}
        publisher.publish(exchange, `task.${state}`, Buffer.from(JSON.stringify(body)), {persistent: true, contentType: 'application/json', type: `task.${state}`, messageId: `${name}-event-${e.id}`, timestamp: Math.floor(e.at / 1000)})
      }
      await publisher.waitForConfirms()
      cursor = events[events.length - 1]!.id
      await store.advance(name, cursor)
      published += events.length
    }
  }
}

function oneLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0]!
}
