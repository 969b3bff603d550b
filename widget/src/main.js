/* ContactConsent widget.js: the consent notice, blocking of marked scripts and iframes until
   consent, the preferences with the visitor's own record, the info-request form, the outbox and
   anonymous statistics beacons. Built into static/widget.js by widget/build.py; docs/widget.md
   says how sites use it.

   Rules kept everywhere: no eval or Function, no innerHTML, no inline handlers, no style
   attributes; DOM by createElement and textContent; styles only inside shadow roots; nothing
   written to storage or cookies before the visitor acts. */

import { isObject, listen, parse, request, warn } from './util.js'
import { siteKey, api, gtagOn, language, nonce } from './env.js'
import { cfg, setConfig, policy } from './config.js'
import { decide, granted, publicState } from './consent.js'
import { createBlocker } from './blocking.js'
import { startStats } from './stats.js'
import { consentDefault, consentUpdate } from './gtag.js'
import { draw, place, openForm, openPreferences, placeholder } from './ui.js'
import { flush, wake } from './delivery.js'
import { fire, PREFIX } from './events.js'

const queued = window.ContactConsent,
  scan = createBlocker({ granted, placeholder, nonce })

let ready, // `ready` has fired
  announced, // the decision in force last announced, as JSON
  stats, // the function to call when what statistics may send changes (once started)
  waiting = [] // what waits for the config (API calls, answers to show); null: it never came

// Run fn once the config is there (now, when it is).
export const withConfig = fn => (cfg ? fn() : waiting && waiting.push(fn))

// After the config arrived and after every decision, own (true) or another tab's. Consent Mode
// gets an update, and the page a `change` event, when the decision in force is another one.
export function changed(own) {
  const state = publicState(),
    json = JSON.stringify(state)
  cfg && (draw(own), scan(document), stats && stats())
  if (json != announced) {
    gtagOn && consentUpdate(state)
    ready && state && fire('change', state)
  }
  ready || fire('ready', state)
  ready = announced = json
}

// GET the config: 5 s timeout, three attempts. `ready` fires at the first failure already (with
// the stored decision); the widget draws when an attempt succeeds.
const fetchConfig = (fresh, attempt = 0) =>
  fetch(api + 'config?lang=' + encodeURIComponent(language), request({ cache: fresh ? 'no-cache' : 'default' }, 5e3))
    .then(r => r.text())
    .then(text => {
      const config = parse(text)
      if (!isObject(config) || !Array.isArray(config.purposes)) throw config
      return config
    })
    .catch(e => {
      ready || changed()
      if (attempt > 1) throw e
      return new Promise(go => setTimeout(go, 1e3 + 2e3 * attempt)).then(() => fetchConfig(fresh, attempt + 1))
    })

// The config arrived: draw first (the notice is on screen in this very task), then the rest.
// Whatever fails while drawing or in a queued call is logged; `ready` still fires.
function apply(config) {
  const mode = config.stats_mode || 'always'
  setConfig(config)
  for (const fn of [changed, ...waiting.splice(0)])
    try {
      fn()
    } catch (e) {
      console.error(e)
      ready || fire('ready', publicState())
      ready = 1
    }
  if (!stats && (mode == 'always' || mode == 'consent')) stats = startStats(api + 'events', () => mode == 'always' || granted('analytics'))
}

export const reload = () => fetchConfig(1).then(apply, warn)

if (siteKey && !(queued && queued.getConsent)) {
  const configured = fetchConfig() // first: the notice can show no sooner than this answer

  // The public API; calls that need the config wait for it.
  const actions = { openForm, openPreferences, withdraw: () => decide('withdraw', 0, 'preferences') },
    widget = {
      getConsent: publicState,
      on(name, fn) {
        listen(document, PREFIX + name, e => fn(e.detail))
        name == 'ready' && ready && fn(publicState())
      },
      push: (...calls) => calls.forEach(([name, ...args]) => widget[name] && widget[name](...args)),
    }
  for (const name of Object.keys(actions)) widget[name] = (...args) => withConfig(() => policy() && actions[name](...args))
  window.ContactConsent = widget
  Array.isArray(queued) && widget.push(...queued)

  // Google Consent Mode: the default, then a returning visitor's decision, before the config.
  announced = JSON.stringify(publicState())
  gtagOn && consentDefault(publicState())

  // Marked elements added later; the host element put back after a body swap.
  new MutationObserver(records => {
    for (const r of records) for (const n of r.addedNodes) cfg && n.nodeType == 1 && scan(n)
    place()
  }).observe(document, { __proto__: null, childList: true, subtree: true })

  listen(window, 'online', wake)
  flush()
  configured.then(apply, e => {
    warn('no config', e)
    waiting = null
    ready || changed()
  })
}
