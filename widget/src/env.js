/* What the pasted snippet says, read once when the script runs. Attributes are read with
   getAttribute, not dataset: dataset falls through to Object.prototype for a missing key. */

export const script = document.currentScript || document.querySelector('script[data-site]')
const attr = name => script.getAttribute('data-' + name)

export const siteKey = script && attr('site')
export const mode = siteKey && (attr('mode') || 'both') // consent, form or both
export const gtagOn = siteKey && attr('gtag') == 'on'
export const language = siteKey && (attr('lang') || navigator.language)
// A widget loaded with a nonce runs only marked scripts that carry the same nonce.
export const nonce = siteKey && script.nonce
export const api = siteKey && new URL(script.src).origin + '/v1/widget/' + encodeURIComponent(siteKey) + '/'
export const gpc = navigator.globalPrivacyControl === true
