/* Blocking until consent, in the markup cookieconsent v3 uses:

     <script type="text/plain" data-category="analytics" src="…"></script>   (or inline code)
     <iframe data-category="marketing" data-src="…" title="…"></iframe>

   A marked element runs (a script) or loads (an iframe) once every purpose named in its
   data-category is granted, exactly once per page, never before. A script is replaced by a new
   <script> with all its other attributes (nonce, integrity, crossorigin, referrerpolicy…), its
   data-type as type (e.g. module), and async only when it had it, so marked scripts without async
   run in document order; its code or URL passes through a Trusted Types policy. Until then an
   iframe is hidden behind a placeholder (made by the caller) that takes its place. */

export const MARKED = 'script[type="text/plain"][data-category],iframe[data-category][data-src]'

// The purposes an element waits for: data-category="analytics marketing" -> both.
export const purposesOf = el => el.getAttribute('data-category').match(/\S+/g) || []

const same = value => value
let policy // the Trusted Types policy (docs/widget.md), made when a first script runs

/* deps: granted(purpose) -> bool; placeholder(iframe, purposes) -> element or undefined;
   nonce: when set, scripts without it are refused. Returns scan(root). */
export function createBlocker({ granted, placeholder, nonce }) {
  const done = new WeakSet(),
    covers = new Map() // iframe -> its placeholder

  function handle(el) {
    const names = purposesOf(el),
      cover = covers.get(el)
    if (done.has(el)) return
    if (names[0] && names.every(granted)) {
      done.add(el)
      if (el.tagName == 'IFRAME') {
        if (cover) {
          const focused = cover.shadowRoot.activeElement
          cover.remove()
          el.hidden = false
          focused && el.focus()
        }
        el.src = el.getAttribute('data-src')
      } else run(el)
    } else if (el.tagName == 'IFRAME' && !cover) {
      const made = placeholder(el, names)
      if (made) {
        covers.set(el, made)
        el.before(made)
        el.hidden = true
      }
    }
  }

  function run(old) {
    if (nonce && old.nonce != nonce) return console.warn('ContactConsent: no nonce, not run', old)
    const s = document.createElement('script')
    try {
      policy = policy || trustedTypes.createPolicy('contactconsent', { createScript: same, createScriptURL: same })
    } catch (e) {
      policy = { createScript: same, createScriptURL: same }
    }
    for (const { name, value } of [...old.attributes]) /^(type|src|data-type)$/.test(name) || s.setAttribute(name, value)
    s.type = old.getAttribute('data-type') || ''
    s.nonce = old.nonce // the attribute reads "" once the browser hid it; the property keeps it
    s.async = old.hasAttribute('async')
    try {
      old.hasAttribute('src') ? (s.src = policy.createScriptURL(old.src)) : (s.text = policy.createScript(old.text))
      old.replaceWith(s)
    } catch (e) {
      console.warn(e)
    }
  }

  // Handle root itself and every marked element inside it.
  return root => [root, ...root.querySelectorAll(MARKED)].forEach(el => el.matches?.(MARKED) && handle(el))
}
