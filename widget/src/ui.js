/* What the visitor sees, in one open shadow root under <contact-consent-widget>: the notice
   (while a decision is pending), the persistent "Privacy choices" and "Tell me more" buttons, and
   one modal dialog at a time (the preferences with the visitor's own record, or the form). Each
   blocked iframe's placeholder has a shadow root of its own.

   The host element is a child of <html>, never of <body>: fixed and of zero size, it takes no
   part in the page's layout, and a body swap (Turbo, htmx, React) leaves it alone; main.js's
   MutationObserver calls place() to put it back if it is removed anyway. While a decision is
   pending it sits before <body>, so the notice comes first in the tab order (as GOV.UK's cookie
   banner does); once decided it moves after <body>, so the page's skip link comes first. */

import { blank } from './util.js'
import { cfg, policy, t, tpl, findPurpose, list, inLanguage } from './config.js'
import { mode } from './env.js'
import { h, row, button, deepActive } from './dom.js'
import { shadowRoot } from './styles.js'
import { current, decide } from './consent.js'
import { makeForm } from './form.js'

let host, box, notice, privacyButton, formButton, dialog, form

export const policyLink = () => h('a', { href: policy().url, target: '_blank', rel: 'noopener' }, t('policy_link'))

const choices = surface => [
  button('accept_all', () => decide('accept_all', 0, surface)),
  button('reject_all', () => decide('reject_all', 0, surface)),
]

function makeNotice() {
  const p = policy(),
    own = inLanguage(p.language), // the policy's words carry the policy's language
    full = h('div', { id: 'cc-b', hidden: true, ...own }, ...p.text.split(/\n\s*\n/).map(x => h('p', {}, x))),
    toggle = h(
      'button',
      {
        type: 'button',
        class: 'ln',
        'aria-expanded': 'false',
        'aria-controls': 'cc-b',
        click() {
          toggle.setAttribute('aria-expanded', full.hidden)
          toggle.textContent = t(full.hidden ? 'hide_policy' : 'read_policy')
          full.hidden = !full.hidden
        },
      },
      t('read_policy'),
    )
  // The choices come right after the words, before the links: "Accept all" is the first stop.
  return h(
    'section',
    { class: 'bn', 'aria-labelledby': 'cc-t' },
    h('h2', { id: 'cc-t' }, t('notice_title')),
    h('p', {}, t('notice_intro')),
    h('p', own, h('strong', {}, p.title), ' ', p.summary),
    h('p', {}, ...choices('banner'), button('choose', openPreferences)),
    h('p', {}, toggle, ' ', policyLink()),
    full,
  )
}

// Put the host where it belongs (see above); called after every change of the page's DOM. Only
// its side of <body> matters, so another script that also appends to <html> is left alone.
export function place() {
  const html = document.documentElement,
    body = document.body,
    inHtml = body && body.parentNode == html
  if (host && (host.parentNode != html || (inHtml && !(host.compareDocumentPosition(body) & 4) == !!notice)))
    html.insertBefore(host, notice && inHtml ? body : null)
}

// Draw what the config and the decision call for; after a decision (own: taken on this page)
// too, when the notice goes or comes back.
export function draw(own) {
  const inNotice = notice && notice.contains(deepActive()),
    wanted = policy() && mode != 'form' && !current()
  if (!host) {
    host = h('contact-consent-widget', {})
    privacyButton = button('privacy_choices', openPreferences, 'fx pc')
    formButton = button('form_open', openForm, 'fx fl')
    shadowRoot(host, '').append((box = h('div', { class: 'w', ...inLanguage(cfg.locale) }, privacyButton, formButton)))
  }
  if (!wanted != !notice) {
    notice ? notice.remove() : box.prepend((notice = makeNotice()))
    notice = wanted && notice
  }
  privacyButton.hidden = !policy() || notice || mode == 'form'
  formButton.hidden = !policy() || notice || mode == 'consent'
  place() // before any focus: moving the host blurs what is focused inside it
  own && dialog && dialog.close()
  inNotice && !notice && privacyButton.focus()
}

// A modal dialog with a heading and Close; Escape closes it natively; focus goes back.
function modal(title, ...content) {
  dialog && dialog.close()
  const back = deepActive(),
    m = h(
      'dialog',
      {
        'aria-labelledby': 'cc-m',
        close() {
          m.remove()
          if (dialog == m) {
            dialog = 0
            ;(back && back.isConnected ? back : privacyButton.hidden ? formButton : privacyButton).focus()
          }
        },
      },
      h('h2', { id: 'cc-m' }, title),
      ...content,
      button('close', () => m.close(), 'ln'),
    )
  box.append(m)
  dialog = m
  m.showModal()
}

export const focusClose = () => dialog.lastChild.focus()

export function showForm(f) {
  form = f
  f.started = f.started || Date.now()
  modal(t('form_title'), f.el)
}

export const openForm = () => showForm(!form || form.done ? makeForm() : form)

// A form that waited in the outbox and was then refused: shown again, filled in, with the answer.
export function showRefused(fields, status, answer) {
  const f = makeForm(fields)
  f.started = Date.now() - 6e4 // typed on an earlier page: not a bot's instant submit
  showForm(f)
  f.result(status, answer, 1)
}

// The visitor's own record: date, policy version, each purpose's state, record id and receipt.
const record = s =>
  h(
    'div',
    {},
    h('h3', {}, t('record_title')),
    h(
      'dl',
      {},
      ...[
        [t('record_date'), new Date(s.decided_at).toLocaleString(cfg.locale)],
        [t('record_policy'), '' + s.policy_version],
        ...cfg.purposes.map(p => [p.label, t(s.purposes[p.key] ? 'granted' : 'denied')]),
        [t('record_id'), s.id || t('record_pending')],
        s.receipt && [t('record_receipt'), s.receipt],
      ].flatMap(row => (row ? [h('dt', {}, row[0]), h('dd', {}, row[1])] : [])),
    ),
  )

export function openPreferences() {
  const s = current(),
    chosen = s ? s.purposes : blank()
  modal(
    t('preferences_title'),
    ...cfg.purposes.map(({ key, label, description, required }) =>
      row(
        h('input', { type: 'checkbox', id: 'cc-p-' + key, checked: required || chosen[key], disabled: required, 'aria-describedby': 'cc-d-' + key }),
        h('label', { for: 'cc-p-' + key }, label, required && ' (' + t('always_on') + ')'),
        h('p', { id: 'cc-d-' + key }, description),
      ),
    ),
    h(
      'p',
      {},
      button('save', () => {
        const selection = blank()
        cfg.purposes.forEach(p => (selection[p.key] = box.querySelector('#cc-p-' + p.key).checked))
        decide('custom', selection, 'preferences')
      }),
      ...choices('preferences'),
    ),
    s && record(s),
  )
}

// The placeholder in a blocked iframe's box, with a button that grants what the iframe waits for.
export function placeholder(frame, names) {
  if (!policy() || !names.every(findPurpose)) return
  const { width, height } = frame.getBoundingClientRect(),
    purposes = list(names.map(k => findPurpose(k).label)),
    title = frame.title || frame.getAttribute('data-src'),
    cover = h('contact-consent-placeholder', {})
  shadowRoot(cover, `:host{position:static!important;display:inline-block!important;overflow:hidden!important;max-width:100%!important;width:${width || 300}px!important;height:${height || 150}px!important}`).append(
    h(
      'div',
      { class: 'w ph', ...inLanguage(cfg.locale) },
      h('p', {}, ...tpl('blocked', { title, purposes })),
      h(
        'button',
        {
          type: 'button',
          click() {
            const selection = Object.assign(blank(), (current() || 0).purposes)
            names.forEach(k => (selection[k] = true))
            decide('custom', selection, 'preferences')
          },
        },
        ...tpl('allow', { purposes }),
      ),
    ),
  )
  return cover
}
