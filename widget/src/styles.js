/* The stylesheet (widget.css, inlined by the build as WIDGET_CSS) with the site's theme, in a
   shadow root of its own under a host element. Styles are adopted as a constructable stylesheet,
   which a strict CSP's style-src allows; a browser without constructable stylesheets gets a
   <style> element instead (a strict CSP blocks that: the widget then works unstyled). */

/* global WIDGET_CSS */
import { cfg } from './config.js'

const COLOURS = ['accent', 'accent_text', 'background', 'text'] // #000001 … #000004 in widget.css

// The theme's colours come checked by the server (#rgb or #rrggbb, enough contrast).
export function shadowRoot(host, extra) {
  const root = host.attachShadow({ __proto__: null, mode: 'open' }),
    css = WIDGET_CSS.replace(/#00000(\d)/g, (_, i) => cfg.theme[COLOURS[i - 1]]) + extra
  try {
    const sheet = new CSSStyleSheet()
    sheet.replaceSync(css)
    if (!root.adoptedStyleSheets) throw 0
    root.adoptedStyleSheets = [sheet]
  } catch (e) {
    root.append(document.createElement('style'))
    root.lastChild.textContent = css
  }
  return root
}
