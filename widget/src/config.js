/* The site config (GET /v1/widget/SITE/config) and the texts in it. Every text the widget shows
   comes from the server, in the visitor's language; the widget carries none of its own. */

export let cfg = null
export const setConfig = value => (cfg = value)

export const policy = () => cfg && cfg.policy

export const t = key => cfg.texts[key] || key

// A text with {name} placeholders, as a list of strings and nodes ready for append(). A site's
// own text without any placeholder gets the values after it.
export function tpl(key, values) {
  const parts = t(key).split(/\{(\w+)\}/)
  return parts[1] ? parts.map((part, i) => (i % 2 ? values[part] || part : part)) : [parts[0], ' ', ...Object.values(values)]
}

export const findPurpose = key => cfg.purposes.find(p => p.key == key)

// "Analytics and Marketing", in the widget's language.
export const list = items => new Intl.ListFormat(cfg.locale).format(items)

// lang and dir attributes for a language tag.
export const inLanguage = lang => ({ lang, dir: /^(ar|ckb|dv|fa|he|ps|sd|ug|ur|yi)\b/i.test(lang) ? 'rtl' : 'ltr' })
