/* The visitor's decision: stored under cc:SITE once the visitor acts (never before), valid while
   it is for the current policy version and younger than the site's expiry, shared with the
   page's other tabs through the `storage` event. Delivered through the outbox. */

import { blank, isObject, listen, uid, here } from './util.js'
import { read, write } from './store.js'
import { cfg, policy } from './config.js'
import { siteKey, gpc } from './env.js'
import { post } from './delivery.js'
import { changed } from './main.js'

const KEY = 'cc:' + siteKey,
  load = () => {
    const value = read(KEY)
    return isObject(value) ? value : blank()
  }
let stored = load()

// The decision in force, or null. Before the config arrives the stored one counts (with its own
// expiry); once it is there, only one for the current policy version.
export function current() {
  const s = stored,
    p = policy()
  return s.policy_version > 0 &&
    isObject(s.purposes) &&
    (!cfg || (p && s.policy_version == p.version)) &&
    Date.now() - Date.parse(s.decided_at) < ((cfg || s).consent_expiry_days || 365) * 864e5
    ? s
    : null
}

// What the page sees (getConsent(), the events' detail): plain objects, no record internals.
export function publicState() {
  const s = current()
  return s && { policy_version: s.policy_version, purposes: { ...s.purposes }, decided_at: s.decided_at }
}

// Required purposes are always granted; the others only by the decision in force.
export const granted = key => cfg.purposes.some(p => p.key == key && p.required) || (current() || 0).purposes?.[key] === true

// The visitor's id, stored: only once the visitor acted (decided, or sent a form).
export const visitorId = () => {
  stored.visitor_id = stored.visitor_id || uid()
  write(KEY, stored)
  return stored.visitor_id
}

// Apply a decision at once, store it, and queue it for the server, which has the last word on
// what each purpose ends as (the same rules apply here, so the page needs no round trip).
export function decide(action, selection, surface) {
  const policy_version = policy().version,
    purposes = blank(),
    event_id = uid()
  for (const { key, required } of cfg.purposes)
    purposes[key] = !!(required || (action == 'accept_all' ? !(gpc && key == 'marketing') : action == 'custom' && selection[key]))
  stored = Object.assign(blank(), {
    visitor_id: visitorId(),
    policy_version,
    purposes,
    decided_at: new Date().toISOString(),
    consent_expiry_days: cfg.consent_expiry_days,
    event_id,
  })
  write(KEY, stored)
  post('consents', { event_id, visitor_id: stored.visitor_id, policy_version, action, purposes, page_url: here(), surface, language: cfg.locale, gpc })
  changed(1)
}

// The server's answer to a delivered decision: its record id and receipt, shown to the visitor.
export function remember(eventId, answer) {
  const s = load()
  if (s.event_id == eventId && answer) {
    s.id = answer.id
    s.receipt = answer.receipt
    write(KEY, (stored = s))
  }
}

// Another tab decided (or cleared the storage): follow it.
listen(window, 'storage', e => {
  if (!e.key || e.key == KEY) {
    stored = load()
    changed()
  }
})
