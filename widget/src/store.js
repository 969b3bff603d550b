/* localStorage, with memory as the fallback. Storage can be readable but not writable (a full
   quota, old Safari's private mode): the first failed write switches this page to memory for what
   it wrote, says so once in the console, and nothing is lost while the page stays open. */

import { parse, warn } from './util.js'

const memory = new Map() // key -> JSON text (null: removed)
let writable = true

export function read(key) {
  if (!writable && memory.has(key)) return parse(memory.get(key))
  try {
    return parse(localStorage.getItem(key))
  } catch (e) {
    return parse(memory.get(key))
  }
}

// write(key, value) stores value as JSON; a null or undefined value removes the key.
export function write(key, value) {
  const text = value == null ? null : JSON.stringify(value)
  memory.set(key, text)
  try {
    writable && (text == null ? localStorage.removeItem(key) : localStorage.setItem(key, text))
  } catch (e) {
    writable = false
    warn('cannot store, keeps this in memory until the page closes:', e.name)
  }
}
