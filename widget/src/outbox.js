/* The outbox: every write (a decision, a form) waits in storage until the server has answered,
   so what was sent offline, or while the server was down, arrives exactly once later (the server
   answers a repeated event_id with its first answer).

   Stored as an object keyed by event id, not as an array: Prototype.js's Array.prototype.toJSON
   makes JSON.stringify write arrays as strings. Whatever is read back is checked entry by entry
   and anything malformed is ignored. Entries are sent oldest first, one tab at a time (the lock),
   re-reading storage before each one because another tab may have sent or added some. A network
   error, 408, 429 or 502 and up wait and retry with backoff; any other answer is final, so an
   entry the server refuses for good is dropped and never blocks the ones behind it. */

import { isObject } from './util.js'

const PATHS = ['consents', 'requests']

// The entries that can be sent, oldest first, as [event id, entry] pairs.
export const pending = box =>
  Object.entries(isObject(box) ? box : {})
    .filter(([id, e]) => isObject(e) && PATHS.includes(e.p) && isObject(e.b) && e.b.event_id == id && e.t > 0)
    .sort((a, b) => a[1].t - b[1].t)

// Whether an answer's status means: try again later (no answer is status 0).
export const retry = status => !status || status == 408 || status == 429 || status > 501

// Seconds before the next attempt: Retry-After when the server gave one, else 1, 2, 4 … 60.
export const backoff = (attempt, retryAfter) => (retryAfter > 0 ? retryAfter : Math.min(60, 2 ** attempt))

/* deps: key (storage key), read/write (store.js), send(path, body) -> [status, json, retryAfter]
   (status 0 or missing: no answer), lock(fn) (runs fn alone among tabs), onResult(entry, status,
   json) for every final answer, onWait() after every failed attempt, later(fn, ms) (setTimeout). */
export function createOutbox({ key, read, write, send, lock, onResult, onWait, later }) {
  let busy,
    again,
    attempt = 0,
    timer

  const entries = () => pending(read(key))
  const save = pairs => write(key, pairs[0] && Object.fromEntries(pairs))

  async function run() {
    for (let first; (first = entries()[0]); ) {
      const [id, entry] = first,
        [status, json, retryAfter] = (await send(entry.p, entry.b)) || []
      if (retry(status)) {
        onWait()
        timer = later(flush, backoff(attempt++, retryAfter) * (1e3 + Math.random() * 300))
        return (again = 0) // what was queued meanwhile waits behind this entry
      }
      attempt = 0
      save(entries().filter(pair => pair[0] != id))
      onResult(entry, status, json)
    }
  }

  // Send what waits; the promise settles when this run is over (for tests).
  function flush() {
    clearTimeout(timer)
    if (busy) return (again = 1)
    busy = 1
    again = 0
    return Promise.resolve()
      .then(() => lock(run))
      .catch(e => console.warn(e))
      .finally(() => {
        busy = 0
        again && flush()
      })
  }

  return {
    // Queue a write; owner names the page that waits for its answer (a form), if any.
    post(path, body, owner) {
      const pairs = entries()
      pairs.push([body.event_id, { p: path, b: body, t: Math.max(Date.now(), ...pairs.map(pair => pair[1].t + 1)), o: owner }])
      save(pairs)
      flush()
    },
    flush,
    // Back online: retry at once, with the backoff from the start.
    wake() {
      attempt = 0
      flush()
    },
  }
}
