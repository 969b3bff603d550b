/* Sending writes to the server through the outbox, and what happens with the answers.

   A form's answer belongs to the page that holds the form (its callback). When another tab
   delivered it, that tab passes the answer on through a BroadcastChannel. A page with a form in
   the outbox holds a Web Lock named after itself, so the delivering tab knows whether the form's
   own page is still open; if not (the form was sent from an earlier page), the delivering page
   fires `submitted`, or shows the refused form again, filled in. Without Web Locks every tab
   sends on its own: the server's idempotency by event_id keeps each write exactly once. */

import { blank, parse, request, uid } from './util.js'
import { read, write } from './store.js'
import { api, siteKey } from './env.js'
import { remember } from './consent.js'
import { createOutbox } from './outbox.js'
import { fire } from './events.js'
import { showRefused } from './ui.js'
import { withConfig, reload } from './main.js'

const locks = navigator.locks,
  name = 'cc:' + siteKey,
  channel = window.BroadcastChannel && new BroadcastChannel(name),
  callbacks = blank() // event id -> the form's result(status, answer), on this page
let self // this page's name in the outbox, once it queued a form

// Give an answer to the form waiting for it on this page; undefined when there is none.
const answer = (id, status, json) => {
  const fn = callbacks[id]
  delete callbacks[id]
  fn && fn(status, json)
  return fn
}
if (channel) channel.onmessage = e => answer(...e.data)

const outbox = createOutbox({
  key: 'cc:outbox:' + siteKey,
  read,
  write,
  async send(path, body) {
    try {
      // A string body goes as text/plain: a "simple" request, no CORS preflight.
      const r = await fetch(api + path, request({ method: 'POST', keepalive: true, body: JSON.stringify(body) }, 3e4))
      return [r.status, parse(await r.text()), +r.headers.get('Retry-After')]
    } catch (e) {}
  },
  lock: run => (locks ? locks.request(name, run) : run()),
  async onResult({ p, b, o }, status, json) {
    channel && channel.postMessage([b.event_id, status, json])
    if (status == 409) reload() // the policy changed: fetch it, ask again
    if (p == 'consents') status < 300 ? remember(b.event_id, json) : console.warn(status, json)
    else if (!answer(b.event_id, status, json) && !(locks && o && (await locks.query()).held.some(lock => lock.name == name + o)))
      withConfig(() => (status < 300 ? fire('submitted', { id: (json || 0).id }) : showRefused(b.fields, status, json)))
  },
  onWait: () => Object.keys(callbacks).forEach(id => callbacks[id](0)),
  later: setTimeout,
})

// Queue a write; a form passes its result function, which gets every answer for it.
export function post(path, body, result) {
  body.widget_version = '%WIDGET_VERSION%' // stamped by the server: each record names its widget
  if (result) {
    callbacks[body.event_id] = result
    if (!self) {
      self = uid()
      locks && locks.request(name + self, () => new Promise(() => {}))
    }
  }
  outbox.post(path, body, result && self)
}

export const { flush, wake } = outbox
