/* Google Consent Mode v2 (data-gtag="on"). The page should set the default itself before GTM
   loads (docs/widget.md); if it did not, the widget does, with wait_for_update so tags wait for
   the widget. A returning visitor's stored decision goes out as an update at start-up, before the
   config arrives; main.js sends one again whenever the decision in force changes. */

const signals = state => {
  const value = key => (state && state.purposes[key] ? 'granted' : 'denied'),
    ads = value('marketing')
  return { ad_storage: ads, ad_user_data: ads, ad_personalization: ads, analytics_storage: value('analytics') }
}

export const consentUpdate = state => gtag('consent', 'update', signals(state))

export function consentDefault(state) {
  const layer = (window.dataLayer = window.dataLayer || [])
  window.gtag =
    window.gtag ||
    function () {
      layer.push(arguments)
    }
  layer.some(a => a[0] == 'consent' && a[1] == 'default') || gtag('consent', 'default', { ...signals(), wait_for_update: 500 })
  state && consentUpdate(state)
}
