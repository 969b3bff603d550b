/* Building DOM: createElement, attributes and textContent only (no innerHTML, no style
   attributes, no inline handlers), so nothing a visitor or merchant typed is ever markup. */

import { t } from './config.js'

// h(tag, {attribute: value, event: listener}, ...children): an attribute that is null or false
// is left out, true is set empty; children are nodes or text (empty ones are skipped).
export function h(tag, attributes, ...children) {
  const el = document.createElement(tag)
  for (const name of Object.keys(attributes)) {
    const value = attributes[name]
    value && value.call ? el.addEventListener(name, value) : value != null && value !== false && el.setAttribute(name, value === true ? '' : value)
  }
  el.append(...children.filter(c => c))
  return el
}

// A row of a form or of the preferences: a checkbox before its label, anything else after it;
// what comes third (an error message, a description) goes under the second.
export const row = (input, label, note) =>
  input.type == 'checkbox' ? h('div', { class: 'cb' }, input, label, note) : h('div', {}, label, input, note)

export const button = (key, onClick, className) => h('button', { type: 'button', class: className, click: onClick }, t(key))

// The focused element, inside shadow roots too.
export function deepActive() {
  let a = document.activeElement
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement
  return a
}
