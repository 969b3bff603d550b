// node --test: the outbox's rules, with a hand-written storage, network and lock.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { backoff, createOutbox, pending, retry } from '../src/outbox.js'
import { parse } from '../src/util.js'

const KEY = 'cc:outbox:test'

// localStorage as JSON text, like the browser's; shared by the "tabs" of one test.
function storage() {
  const texts = new Map()
  return {
    texts,
    read: key => parse(texts.get(key) ?? null),
    write: (key, value) => (value == null ? texts.delete(key) : texts.set(key, JSON.stringify(value))),
  }
}

// A server that answers each path/event with the next status of a script (default 201).
function server(answers = {}) {
  const sent = []
  return {
    sent,
    async send(path, body) {
      sent.push(body.event_id)
      const script = answers[body.event_id] || [201]
      const status = script.length > 1 ? script.shift() : script[0]
      return status == null ? undefined : [status, { id: 'r-' + body.event_id }, undefined]
    },
  }
}

// One lock for all the tabs of a test: runs one fn at a time, like navigator.locks.
function lock() {
  let tail = Promise.resolve()
  return fn => (tail = tail.then(fn, fn))
}

function outbox({ store = storage(), net = server(), results = [], later = [], locked = lock() } = {}) {
  const box = createOutbox({
    key: KEY,
    read: store.read,
    write: store.write,
    send: net.send,
    lock: locked,
    onResult: (entry, status, json) => results.push([entry.b.event_id, status, json && json.id]),
    onWait: () => results.push(['wait']),
    later: (fn, ms) => later.push([fn, ms]),
  })
  return { box, store, net, results, later }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise(go => setImmediate(go))
}

test('pending keeps only well-formed entries, oldest first', () => {
  const good = (id, t) => [id, { p: 'consents', b: { event_id: id }, t }]
  const box = Object.fromEntries([
    good('b', 20),
    good('a', 10),
    ['c', { p: 'elsewhere', b: { event_id: 'c' }, t: 5 }],
    ['d', { p: 'requests', b: { event_id: 'not d' }, t: 5 }],
    ['e', { p: 'requests', b: 'text', t: 5 }],
    ['f', ['an', 'array']],
    ['g', { p: 'requests', b: { event_id: 'g' } }],
  ])
  assert.deepEqual(
    pending(box).map(([id]) => id),
    ['a', 'b'],
  )
  for (const junk of [null, undefined, 'a string', 7, ['a', 'b'], '[{"p":1}]']) assert.deepEqual(pending(junk), [])
})

test('what a status means', () => {
  for (const status of [undefined, 0, 408, 429, 502, 503, 504]) assert.equal(retry(status), true, String(status))
  for (const status of [200, 201, 400, 403, 409, 413, 422, 500, 501]) assert.equal(retry(status), false, String(status))
})

test('backoff doubles up to a minute, or follows Retry-After', () => {
  assert.deepEqual([0, 1, 2, 3, 6, 7, 20].map(n => backoff(n)), [1, 2, 4, 8, 60, 60, 60])
  assert.equal(backoff(5, 3), 3)
})

test('entries are sent in order, each removed once answered', async () => {
  const o = outbox()
  o.box.post('consents', { event_id: 'one' })
  o.box.post('requests', { event_id: 'two' }, 'page-1')
  await settle()
  assert.deepEqual(o.net.sent, ['one', 'two'])
  assert.deepEqual(o.results, [
    ['one', 201, 'r-one'],
    ['two', 201, 'r-two'],
  ])
  assert.equal(o.store.texts.has(KEY), false) // an empty outbox leaves nothing stored
})

test('an entry refused for good is dropped and does not block the ones behind it', async () => {
  const o = outbox({ net: server({ bad: [422], broken: [500] }) })
  o.box.post('consents', { event_id: 'bad' })
  o.box.post('consents', { event_id: 'broken' })
  o.box.post('consents', { event_id: 'good' })
  await settle()
  assert.deepEqual(o.results.map(r => r.slice(0, 2)), [
    ['bad', 422],
    ['broken', 500],
    ['good', 201],
  ])
  assert.equal(o.store.texts.has(KEY), false)
})

test('no answer, 429 or 503 keep the entry, stop, and retry later with backoff', async () => {
  const o = outbox({ net: server({ slow: [undefined, 503, 429, 201] }) })
  o.box.post('consents', { event_id: 'slow' })
  o.box.post('consents', { event_id: 'next' })
  await settle()
  assert.deepEqual(o.net.sent, ['slow'])
  assert.deepEqual(o.results, [['wait']])
  assert.deepEqual(pending(o.store.read(KEY)).map(([id]) => id), ['slow', 'next'])
  const delays = []
  for (let round = 0; round < 3; round++) {
    const [fn, ms] = o.later.shift()
    delays.push(ms)
    await fn()
    await settle()
  }
  assert.deepEqual(o.net.sent, ['slow', 'slow', 'slow', 'slow', 'next'])
  assert.ok(delays[0] >= 1000 && delays[0] < 1300, String(delays))
  assert.ok(delays[1] >= 2000 && delays[1] < 2600, String(delays))
  assert.ok(delays[2] >= 4000 && delays[2] < 5200, String(delays))
  assert.deepEqual(o.results.slice(-2).map(r => r.slice(0, 2)), [
    ['slow', 201],
    ['next', 201],
  ])
})

test('back online: wake retries at once', async () => {
  const o = outbox({ net: server({ x: [undefined, 201] }) })
  o.box.post('consents', { event_id: 'x' })
  await settle()
  assert.equal(o.later.length, 1)
  o.box.wake()
  await settle()
  assert.deepEqual(o.net.sent, ['x', 'x'])
  assert.equal(o.store.texts.has(KEY), false)
})

test('a write queued while a run is under way is sent by it', async () => {
  let release
  const gate = new Promise(go => (release = go))
  const net = server()
  const send = net.send
  net.send = async (path, body) => (body.event_id == 'first' && (await gate), send(path, body))
  const o = outbox({ net })
  o.box.post('consents', { event_id: 'first' })
  await settle()
  o.box.post('consents', { event_id: 'second' })
  release()
  await settle()
  assert.deepEqual(net.sent, ['first', 'second'])
})

test('two tabs with one lock never send the same entry twice', async () => {
  const store = storage(),
    net = server(),
    locked = lock()
  const a = outbox({ store, net, locked }),
    b = outbox({ store, net, locked })
  a.box.post('consents', { event_id: 'one' })
  b.box.post('consents', { event_id: 'two' })
  a.box.flush()
  b.box.flush()
  await settle()
  assert.deepEqual(net.sent.sort(), ['one', 'two'])
})

test('order is kept among entries queued in the same millisecond', () => {
  const o = outbox({ net: { send: () => new Promise(() => {}) } })
  for (const id of ['a', 'b', 'c', 'd']) o.box.post('consents', { event_id: id })
  const times = pending(o.store.read(KEY)).map(([, e]) => e.t)
  assert.deepEqual([...times].sort((x, y) => x - y), times)
  assert.equal(new Set(times).size, 4)
})

test("Prototype.js's Array.prototype.toJSON cannot change what is stored", async () => {
  Array.prototype.toJSON = function () {
    return '[' + this.map(x => JSON.stringify(x)).join(', ') + ']'
  }
  try {
    const o = outbox({ net: { send: () => new Promise(() => {}) } })
    o.box.post('consents', { event_id: 'a' })
    o.box.post('consents', { event_id: 'b' })
    assert.deepEqual(pending(o.store.read(KEY)).map(([id]) => id), ['a', 'b'])
    assert.equal(typeof JSON.parse(o.store.texts.get(KEY)), 'object')
  } finally {
    delete Array.prototype.toJSON
  }
})
