// node --test: blocking until consent, against a small hand-written DOM (just what blocking.js
// touches) and a Trusted Types factory that wraps what passes through it.
import { test } from 'node:test'
import assert from 'node:assert/strict'

class Element {
  constructor(tag, attributes = {}, text = '') {
    this.tagName = tag.toUpperCase()
    this.map = new Map(Object.entries(attributes))
    this.children = []
    this.parent = null
    this.hidden = false
    this.text = text
    this.async = true // a script made by createElement is async until told otherwise
    this.nonce = attributes.nonce || ''
    if ('nonce' in attributes) this.map.set('nonce', '') // browsers hide it from the attribute
  }
  getAttribute(name) {
    return this.map.has(name) ? this.map.get(name) : null
  }
  setAttribute(name, value) {
    this.map.set(name, String(value))
    if (name == 'nonce') this.nonce = String(value)
  }
  hasAttribute(name) {
    return this.map.has(name)
  }
  get attributes() {
    return [...this.map].map(([name, value]) => ({ name, value }))
  }
  get src() {
    return this.map.get('src') || ''
  }
  set src(value) {
    this.loaded = value // a TrustedScriptURL from the policy, or a plain string for iframes
    this.map.set('src', String(value.url || value))
  }
  set type(value) {
    this.map.set('type', value)
  }
  matches(selector) {
    const marked = this.map.has('data-category')
    return this.tagName == 'SCRIPT'
      ? marked && this.map.get('type') == 'text/plain' && selector.includes('script[')
      : this.tagName == 'IFRAME' && marked && this.map.has('data-src')
  }
  querySelectorAll(selector) {
    return this.children.flatMap(c => [...(c.matches(selector) ? [c] : []), ...c.querySelectorAll(selector)])
  }
  append(...nodes) {
    for (const n of nodes) (n.parent = this), this.children.push(n)
  }
  before(node) {
    node.parent = this.parent
    this.parent.children.splice(this.parent.children.indexOf(this), 0, node)
  }
  replaceWith(node) {
    node.parent = this.parent
    this.parent.children[this.parent.children.indexOf(this)] = node
    this.parent = null
  }
  remove() {
    this.parent.children.splice(this.parent.children.indexOf(this), 1)
    this.parent = null
  }
  focus() {
    focused = this
  }
}
let focused = null
const policies = []
globalThis.document = { createElement: tag => new Element(tag) }
globalThis.trustedTypes = {
  createPolicy(name, rules) {
    policies.push(name)
    return {
      createScript: code => ({ code: rules.createScript(code) }),
      createScriptURL: url => ({ url: rules.createScriptURL(url) }),
    }
  },
}
const { createBlocker, purposesOf } = await import('../src/blocking.js')

function page(...elements) {
  const body = new Element('body')
  body.append(...elements)
  return body
}
const script = (category, attributes = {}, text = '') =>
  new Element('script', { type: 'text/plain', 'data-category': category, ...attributes }, text)
const ran = body => body.children.filter(c => c.tagName == 'SCRIPT' && c.getAttribute('type') != 'text/plain')

test('data-category names one or more purposes', () => {
  assert.deepEqual(purposesOf(script(' analytics  marketing ')), ['analytics', 'marketing'])
  assert.deepEqual(purposesOf(script('')), [])
})

test('a marked script runs once every purpose it names is granted, and only once', () => {
  const granted = new Set()
  const scan = createBlocker({ granted: k => granted.has(k), placeholder: () => {} })
  const body = page(script('analytics', { src: 'https://stats.example/t.js' }), script('analytics marketing', {}, 'both()'))
  scan(body)
  assert.equal(ran(body).length, 0)
  granted.add('analytics')
  scan(body)
  assert.deepEqual(ran(body).map(s => s.loaded), [{ url: 'https://stats.example/t.js' }])
  granted.add('marketing')
  scan(body)
  scan(body)
  assert.deepEqual(ran(body).map(s => s.text), ['', { code: 'both()' }])
  assert.deepEqual(policies, ['contactconsent']) // code and URLs pass through the named policy
  assert.equal(body.children.length, 2)
})

test('a marked element with no purpose named never runs', () => {
  const scan = createBlocker({ granted: () => true, placeholder: () => {} })
  const body = page(script(''))
  scan(body)
  assert.equal(ran(body).length, 0)
})

test('the new script keeps the other attributes, the nonce, and async only when it had it', () => {
  const scan = createBlocker({ granted: () => true, placeholder: () => {}, nonce: 'n0nce' })
  const first = script('analytics', {
    src: '/a.js',
    nonce: 'n0nce',
    integrity: 'sha384-abc',
    crossorigin: 'anonymous',
    referrerpolicy: 'no-referrer',
    'data-type': 'module',
    'data-service': 'stats',
  })
  const second = script('analytics', { src: '/b.js', nonce: 'n0nce', async: '' })
  const body = page(first, second)
  scan(body)
  const [a, b] = ran(body)
  assert.deepEqual(Object.fromEntries(a.map), {
    'data-category': 'analytics',
    nonce: '',
    integrity: 'sha384-abc',
    crossorigin: 'anonymous',
    referrerpolicy: 'no-referrer',
    'data-service': 'stats',
    type: 'module',
    src: '/a.js',
  })
  assert.equal(a.nonce, 'n0nce')
  assert.equal(a.async, false) // in document order, like the scripts it stands for
  assert.equal(b.async, true)
})

test('with a nonce on widget.js, marked scripts without it are not run', () => {
  const scan = createBlocker({ granted: () => true, placeholder: () => {}, nonce: 'n0nce' })
  const body = page(script('analytics', {}, 'injected()'), script('analytics', { nonce: 'other' }, 'x()'))
  const warn = console.warn
  console.warn = () => {}
  try {
    scan(body)
  } finally {
    console.warn = warn
  }
  assert.equal(ran(body).length, 0)
})

test('a marked iframe waits behind its placeholder and loads once granted', () => {
  let granted = false
  const covers = []
  const scan = createBlocker({
    granted: () => granted,
    placeholder: (frame, names) => {
      const cover = new Element('contact-consent-placeholder', { for: names.join() })
      cover.shadowRoot = { activeElement: {} } // its button has the focus
      covers.push(cover)
      return cover
    },
  })
  const frame = new Element('iframe', { 'data-category': 'marketing', 'data-src': 'https://video.example/1' })
  const body = page(frame)
  scan(body)
  scan(body)
  assert.equal(covers.length, 1)
  assert.deepEqual(body.children, [covers[0], frame])
  assert.equal(frame.hidden, true)
  assert.equal(frame.src, '')
  granted = true
  scan(body)
  assert.deepEqual(body.children, [frame])
  assert.equal(frame.hidden, false)
  assert.equal(frame.src, 'https://video.example/1')
  assert.equal(focused, frame) // focus goes where the placeholder's button was
})

test('an iframe without a placeholder (no config yet) just waits', () => {
  const scan = createBlocker({ granted: () => false, placeholder: () => undefined })
  const frame = new Element('iframe', { 'data-category': 'marketing', 'data-src': '/v' })
  const body = page(frame)
  scan(body)
  assert.deepEqual(body.children, [frame])
  assert.equal(frame.src, '')
})

test('scan handles the element it is given too (one added later)', () => {
  const scan = createBlocker({ granted: () => true, placeholder: () => {} })
  const late = script('analytics', {}, 'late()')
  const body = page(late)
  scan(late)
  assert.deepEqual(ran(body).map(s => s.text), [{ code: 'late()' }])
})
