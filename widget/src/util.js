/* Small helpers every module uses. Nothing here touches the page. */

// An object without a prototype: a page that adds properties to Object.prototype cannot make a
// missing key look present here (a purpose granted, a text replaced, an option switched on).
export const blank = () => Object.create(null)

export const isObject = value => !!value && typeof value == 'object' && !Array.isArray(value)

// JSON.parse whose objects have no prototype (see blank); null for anything unreadable.
export const parse = text => {
  try {
    return JSON.parse(text, (_, value) => (isObject(value) ? Object.assign(blank(), value) : value))
  } catch (e) {
    return null
  }
}

// A random v4 UUID. randomUUID needs a secure context; a blob: URL ends in one everywhere.
export const uid = () => (crypto.randomUUID ? crypto.randomUUID() : URL.createObjectURL(new Blob()).slice(-36))

export const listen = (target, type, fn) => target.addEventListener(type, fn)

export const warn = (...what) => console.warn('ContactConsent', ...what)

// The page's address as the widget reports it: origin and path, never query string or fragment.
export const here = () => location.origin + location.pathname

// fetch options: no prototype, so a polluted Object.prototype cannot add a method, body or mode.
export const request = (options, ms) => Object.assign(blank(), options, { signal: AbortSignal.timeout && AbortSignal.timeout(ms) })
