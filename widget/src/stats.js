/* Anonymous statistics: a page-view beacon per page and per single-page-app route, and an
   engagement beacon with the time the page was visible and focused, credited to the route it
   was spent on, sent when the page is hidden or the route changes. Beacons read and write
   nothing on the device (no cookie, no storage, no id); they carry the page's origin and path
   and, on the first view, the referrer's origin. A prerendered page counts once it is shown.
   Beacons are text/plain Blobs: sendBeacon then needs no CORS preflight. */

import { here, listen } from './util.js'

const d = document

// Start counting; allowed() says whether beacons may be sent right now (the site's stats_mode
// and, for `consent`, the analytics purpose). Returns the function to call when that may change.
export function startStats(endpoint, allowed) {
  let route = here(),
    viewed,
    referrer = /^https?:/.test(d.referrer) ? new URL(d.referrer).origin + '/' : null,
    spent = 0,
    since = 0

  const beacon = (type, engaged_ms) => {
    try {
      navigator.sendBeacon(endpoint, new Blob([JSON.stringify({ type, url: route, referrer, engaged_ms })], { type: 'text/plain' }))
    } catch (e) {}
  }
  // Settle the clock, then keep it running only while the page is seen, focused and counted.
  const tick = () => {
    const now = Date.now()
    if (since) spent += now - since
    since = d.visibilityState == 'visible' && d.hasFocus() && allowed() && now
  }
  const view = () => {
    if (allowed() && !d.prerendering && viewed != route) {
      viewed = route
      beacon('pageview')
    }
    tick()
  }
  // Leaving (hidden, pagehide, another route): the time goes out and the clock stops until the
  // page is seen again (pagehide and visibilitychange both come when the page is left).
  const leave = () => {
    tick()
    since = 0
    if (spent > 0 && allowed()) beacon('engagement', Math.round(spent))
    spent = 0
  }
  // A navigation that keeps the path (a query or hash change, a replaceState) is no new view.
  const navigate = () => {
    if (here() != route) {
      leave()
      route = here()
      referrer = null
      view()
    }
  }

  for (const name of ['pushState', 'replaceState']) {
    const original = history[name]
    history[name] = function () {
      const result = original.apply(this, arguments)
      navigate()
      return result
    }
  }
  listen(window, 'popstate', navigate)
  listen(d, 'visibilitychange', () => (d.hidden ? leave() : tick()))
  listen(window, 'pagehide', leave)
  for (const type of ['focus', 'blur', 'pageshow']) listen(window, type, tick)
  listen(d, 'prerenderingchange', view)
  view()
  return view
}
