/* ContactConsent widget: consent notice, preferences, info-request form, anonymous beacons.
   Plain JS, no build step; served minified (rjsmin) and compressed, budget 6 KiB gzip, so names
   are short on purpose. Rules kept here: no eval/Function, no innerHTML, no inline handlers, no
   style attributes; DOM only via createElement + textContent; styles only via a constructable
   stylesheet in an open shadow root; nothing is written to storage before the visitor acts.
   Names: cfg = site config, st = stored record (cc:SITE), R = shadow root, BN = notice,
   PC = "Privacy choices" button, FL = form launcher, M = open dialog, F = the form. */
((w, d, N) => {
  const Q = w.ContactConsent, S = d.currentScript || d.querySelector('script[data-site]')
  if (Q && Q.openForm || !S) return
  const D = S.dataset, SK = D.site, O = new URL(S.src).origin,
    U = O + '/v1/widget/' + encodeURIComponent(SK) + '/', MD = D.mode || 'both',
    K = 'cc:' + SK, OB = 'cc:outbox:' + SK, GPC = N.globalPrivacyControl === !0, G = D.gtag == 'on',
    C = w.crypto, AS = AbortSignal, CE = 'contactconsent:', PS = 'preferences', L = location, now = Date.now,
    // English fallback; the config's `texts` (widget_server/texts.py) override every key.
    T = {
      notice_title: 'Your privacy',
      notice_intro: 'We ask before we use anything beyond what this site needs to work.',
      accept_all: 'Accept all', reject_all: 'Reject all', choose: 'Choose', save: 'Save choices',
      privacy_choices: 'Privacy choices', preferences_title: 'Privacy choices',
      read_policy: 'Read the full text', hide_policy: 'Hide the full text',
      policy_link: 'terms and privacy notice', always_on: 'Always on', close: 'Close',
      form_open: 'Tell me more', form_title: 'Tell me more', send: 'Send', sending: 'Sending…',
      sent: 'Thank you. We received your request.',
      queued: 'You seem to be offline. We will send it as soon as you are back.',
      agree: 'By sending you agree to our', required: 'This field is required.',
      invalid_email: 'Enter a valid e-mail address.', too_long: 'This is too long.',
      error: 'Something went wrong. Please try again.',
      name: 'Name', email: 'E-mail', phone: 'Phone', message: 'Message',
      marketing_opt_in: 'Send me occasional news and offers.',
      purpose_necessary: 'Necessary', purpose_necessary_desc: 'Needed for the site to work. Always on.',
      purpose_analytics: 'Analytics', purpose_analytics_desc: 'Helps us understand how the site is used.',
      purpose_marketing: 'Marketing', purpose_marketing_desc: 'Lets us show you relevant offers.'
    },
    // localStorage: ls(k) reads (undefined when storage is unusable), ls(k, v) writes, falsy v removes
    ls = (k, v) => {
      try {
        const s = localStorage
        if (v === void 0) return JSON.parse(s.getItem(k))
        v ? s.setItem(k, JSON.stringify(v)) : s.removeItem(k)
      } catch (e) {}
    },
    // randomUUID needs a secure context; a blob: URL ends in a random v4 UUID everywhere
    uid = () => C.randomUUID ? C.randomUUID() : URL.createObjectURL(new Blob).slice(-36),
    on = (o, e, f) => o.addEventListener(e, f),
    t = k => (cfg && cfg.texts || {})[k] || T[k] || k,
    // h(tag, {attribute: value, event: listener}, ...children as nodes or text)
    h = (n, a, ...c) => {
      const e = d.createElement(n)
      for (const k in a) {
        const v = a[k]
        v && v.call ? on(e, k, v) : v != null && v !== !1 && e.setAttribute(k, v === !0 ? '' : v)
      }
      e.append(...c.filter(x => x))
      return e
    },
    B = (k, f, c) => h('button', { type: 'button', class: c, click: f }, t(k)),
    fire = (n, x) => d.dispatchEvent(new CustomEvent(CE + n, { detail: x })),
    pol = () => cfg && cfg.policy,
    // the consent state: the stored decision if it is for the current policy and not expired
    cur = () => {
      const p = pol(), { visitor_id: _, ...s } = st
      return s.policy_version && (!cfg || p && s.policy_version == p.version && now() - Date.parse(s.decided_at) < (cfg.consent_expiry_days || 365) * 864e5) ? s : null
    },
    vid = () => st.visitor_id || (st.visitor_id = uid()),
    act = () => {
      let a = d.activeElement
      while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement
      return a
    },
    gt = s => {
      if (G && s) {
        const g = k => s.purposes[k] ? 'granted' : 'denied', m = g('marketing')
        w.gtag('consent', 'update', { ad_storage: m, ad_user_data: m, ad_personalization: m, analytics_storage: g('analytics') })
      }
    },
    // Outbox: each write waits in localStorage until the server answered 2xx or a final 4xx.
    rd = () => { const v = ls(OB); return v === void 0 ? mem : v || [] },
    wr = v => { mem = v; ls(OB, v.length && v) },
    go = () => { clearTimeout(tm); fl() },
    post = (p, b, f) => { f && (cbs[b.event_id] = f); b.widget_version = '%WIDGET_VERSION%'; wr([...rd(), { p, b }]); go() },
    fl = async () => {
      if (busy) return
      busy = 1
      let it, r, s, j, f, id
      try {
        while (it = rd()[0]) {
          id = it.b.event_id; s = r = 0; j = {}; f = cbs[id]
          try {
            r = await fetch(U + it.p, { method: 'POST', keepalive: !0, headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: JSON.stringify(it.b), signal: AS.timeout && AS.timeout(3e4) })
            s = r.status
            j = await r.json().catch(() => j)
          } catch (e) {}
          if (!s || s > 499 || s == 429) {
            // network error, 5xx, 429: back off 1s, 2s, 4s ... 60s (or Retry-After), plus jitter
            tm = setTimeout(fl, (r && +r.headers.get('Retry-After') || Math.min(60, 2 ** bo++)) * (1e3 + Math.random() * 300))
            for (id in cbs) cbs[id](0)
            break
          }
          bo = 0
          wr(rd().filter(x => x.b.event_id != id))
          delete cbs[id]
          if (s > 399) s == 409 ? load(1) : console.warn('ContactConsent ' + s, j)
          f && f(s, j)
        }
      } finally { busy = 0 }
    },
    // Anonymous beacons: no storage, no outbox; a text/plain Blob needs no preflight.
    bc = o => { try { N.sendBeacon(U + 'events', new Blob([JSON.stringify({ url: L.href, referrer: d.referrer, ...o })], { type: 'text/plain' })) } catch (e) {} },
    eng = () => {
      if (vs) vt += now() - vs, vs = 0
      vt && bc({ type: 'engagement', engaged_ms: vt }), vt = 0
    },
    // WCAG relative luminance (+.05) of #rgb / #rrggbb
    lum = c => (c = c.slice(1), c[3] || (c = c.replace(/./g, '$&$&')), [0, 2, 4].reduce((s, i, j) =>
      (v => s + [.2126, .7152, .0722][j] * (v < .04 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4))(parseInt(c.substr(i, 2), 16) / 255), .05)),
    cr = (a, b) => (a = lum(a), b = lum(b), a > b ? a / b : b / a),
    // colours from the config (#rgb/#rrggbb); a pair below WCAG AA 4.5:1 falls back to ours
    css = () => {
      const th = cfg.theme || {}, c = k => /^#([\da-f]{3}){1,2}$/i.test(th[k]) ? th[k] : ''
      let a = c('accent'), at = c('accent_text'), bg = c('background'), tx = c('text')
      if (!(cr(a, at) >= 4.5)) a = '#1d4ed8', at = '#fff'
      if (!(cr(bg, tx) >= 4.5)) bg = '#fff', tx = '#111827'
      return `:host{all:initial!important;--a:${a};--t:${at};--b:${bg};--x:${tx};font:15px/1.5 system-ui,sans-serif!important;color:var(--x)!important}
*{box-sizing:border-box;font:inherit;color:inherit;margin:0 0 .5em}
.bn,dialog{background:var(--b);border:0;padding:1em 1.5em;box-shadow:0 0 9px #0008;max-height:85vh;overflow:auto}
.bn,.fx{position:fixed;z-index:2147483647}
.bn{inset:auto 0 0;animation:u .3s}
@keyframes u{from{transform:translateY(99%)}}
dialog{margin:auto;border-radius:8px;width:min(34em,95vw)}
h2{font-size:1.2em}
h2,label,strong,.er{font-weight:700}
label{display:block}
.rq:after{content:" *"/""}
button{cursor:pointer;border:2px solid var(--a);border-radius:6px;padding:.4em 1em;background:var(--a);color:var(--t);margin-right:.5em}
.ln{background:0;border:0;color:inherit;padding:0}
.ln,button:hover{text-decoration:underline}
:focus-visible{outline:3px solid var(--x);outline-offset:2px;box-shadow:0 0 0 2px var(--b)}
.fx{bottom:1em}
.pc{left:1em}
.fl{right:1em}
.cb{display:grid;grid-template-columns:auto 1fr;gap:0 .6em}
.cb p{grid-column:2}
input,textarea,select{background:var(--b);border:1px solid;border-radius:4px;padding:.4em;width:100%}
[type=checkbox]{width:1.1em;height:1.1em;accent-color:var(--a)}
textarea{height:6em}
[aria-invalid=true]{border-color:#c00}
.hp{position:fixed;left:-9999px}
@media (prefers-reduced-motion:reduce){*{animation:none!important}}`
    },
    lnk = () => {
      const u = pol().url
      return h('a', { href: /^https?:/.test(u) ? u : O + '/policy/' + encodeURIComponent(SK), target: '_blank', rel: 'noopener' }, t('policy_link'))
    },
    // a modal dialog with a heading and Close; Escape closes it natively; focus goes back
    modal = (ti, ...c) => {
      M && M.close()
      const pv = act(), m = h('dialog', {
        'aria-labelledby': 'cc-m',
        close: () => {
          m.remove()
          if (M == m) M = 0, (pv && pv.isConnected ? pv : PC.hidden ? FL : PC).focus()
        }
      }, h('h2', { id: 'cc-m' }, ti), ...c, B('close', () => m.close(), 'ln'))
      R.append(m)
      M = m
      m.showModal()
    },
    sync = () => {
      const p = !pol() || BN
      PC.hidden = p || MD == 'form'
      FL.hidden = p || MD == 'consent'
    },
    // a decision: applied and stored at once, delivered through the outbox
    decide = (a, sel, sf) => {
      let p = pol(), P = {}, fb = BN && BN.contains(act())
      cfg.purposes.forEach(({ key: k, required: q }) => P[k] = !!(q || (a == 'accept_all' ? !(GPC && k == 'marketing') : a == 'custom' && sel[k])))
      st = { visitor_id: vid(), policy_version: p.version, purposes: P, decided_at: new Date().toISOString() }
      ls(K, st)
      post('consents', { event_id: uid(), visitor_id: st.visitor_id, policy_version: p.version, action: a, purposes: P, page_url: L.href, surface: sf, language: cfg.locale, gpc: GPC })
      BN && BN.remove()
      BN = 0
      sync()
      M && M.close()
      fb && PC.focus()
      gt(p = cur())
      fire('change', p)
    },
    both = sf => [B('accept_all', () => decide('accept_all', 0, sf)), B('reject_all', () => decide('reject_all', 0, sf))],
    banner = () => {
      const p = pol(), b = h('div', { id: 'cc-b', hidden: !0 }, ...(p.text || p.body || '').split(/\n\s*\n/).map(x => h('p', {}, x.trim()))),
        g = h('button', {
          type: 'button', class: 'ln', 'aria-expanded': 'false', 'aria-controls': 'cc-b',
          click: () => {
            const o = b.hidden
            b.hidden = !o
            g.setAttribute('aria-expanded', o)
            g.textContent = t(o ? 'hide_policy' : 'read_policy')
          }
        }, t('read_policy'))
      return h('section', { class: 'bn', 'aria-labelledby': 'cc-t' },
        h('h2', { id: 'cc-t' }, t('notice_title')), h('p', {}, t('notice_intro')),
        h('p', {}, h('strong', {}, p.title), ' ', p.summary), g, b, h('p', {}, lnk()),
        h('div', {}, ...both('banner'), B('choose', A.openPreferences)))
    },
    form = () => {
      const fc = cfg.form || {}, fs = fc.fields || [], I = {}, mo = fc.marketing_opt_in,
        val = ({ name: n, type: y }) => (n = I[n].i, y == 'checkbox' ? n.checked : y == 'textarea' ? n.value : n.value.trim()),
        er = (n, m) => { n = I[n]; n.e.textContent = m || ''; n.i.setAttribute('aria-invalid', !!m) },
        ck = f => {
          const v = val(f), y = f.type, m = f.required && !v ? 'required' : y == 'email' && v && !/^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(v) ? 'invalid_email' : f.max_length && v.length > f.max_length ? 'too_long' : ''
          er(f.name, m && t(m))
          return !m
        },
        rows = fs.map(f => {
          const n = f.name, id = 'cc-f-' + n, y = f.type, e = h('p', { id: id + 'e', class: 'er' }),
            a = { id, name: n, required: f.required, maxlength: f.max_length, autocomplete: { name: 'name', email: 'email', tel: 'tel' }[y == 'text' ? n : y], 'aria-describedby': id + 'e', change: () => ck(f), input: () => e.textContent && ck(f) },
            i = y == 'textarea' ? h('textarea', a) : y == 'select' ? h('select', a, h('option', { value: '' }), ...(f.options || []).map(o => h('option', { value: o.value || o }, o.label || o))) : h('input', { ...a, type: y }),
            l = h('label', { for: id, class: f.required && 'rq' }, f.label || t(n))
          I[n] = { i, e }
          return y == 'checkbox' ? h('div', { class: 'cb' }, i, l, e) : h('div', {}, l, i, e)
        }),
        hp = h('input', { name: 'hp', class: 'hp', tabindex: -1, autocomplete: 'off', 'aria-hidden': 'true' }),
        mk = mo && h('input', { type: 'checkbox', id: 'cc-f-mk' }),
        sb = h('button', {}, t('send')),
        ss = h('p', { role: 'status' }),
        fm = h('form', {
          novalidate: !0,
          submit: e => {
            e.preventDefault()
            if (sb.disabled) return
            const bad = fs.filter(f => !ck(f)), fd = {}
            if (bad[0]) return I[bad[0].name].i.focus()
            sb.disabled = !0
            sb.textContent = t('sending')
            ss.textContent = ''
            vid()
            ls(K, st)
            fs.forEach(f => { const v = val(f); v !== '' && (fd[f.name] = v) })
            post('requests', { event_id: uid(), visitor_id: st.visitor_id, policy_version: pol().version, fields: fd, marketing_opt_in: !!(mk && mk.checked), page_url: L.href, language: cfg.locale, hp: hp.value, elapsed_ms: now() - o.t0 }, (s, j) => {
              let f1, k
              if (!s) return ss.textContent = t('queued')
              if (s < 300) {
                o.done = fm.hidden = !0
                ss.textContent = t('sent')
                M && M.lastChild.focus()
                return fire('submitted', { id: j.id })
              }
              sb.disabled = !1
              sb.textContent = t('send')
              // 422 errors: {"fields.NAME" or "NAME": [messages]}
              for (k in j.errors) {
                const n = k.replace(/^fields\./, '')
                I[n] && (er(n, [].concat(j.errors[k]).join(' ')), f1 = f1 || n)
              }
              f1 ? I[f1].i.focus() : ss.textContent = t('error')
            })
          }
        }, ...rows, mk && h('div', { class: 'cb' }, mk, h('label', { for: 'cc-f-mk' }, mo.label || t('marketing_opt_in'))),
        h('p', {}, t('agree') + ' ', lnk(), '.'), hp, sb),
        o = { el: h('div', {}, fm, ss), t0: 0 }
      return o
    },
    draw = () => {
      const y = new CSSStyleSheet()
      if (!H) {
        H = h('contact-consent-widget')
        R = H.attachShadow({ mode: 'open' })
        PC = B('privacy_choices', A.openPreferences, 'fx pc')
        FL = B('form_open', A.openForm, 'fx fl')
        R.append(PC, FL)
        ;(d.body || d.documentElement).prepend(H)
      }
      y.replaceSync(css())
      R.adoptedStyleSheets = [y]
      cfg.locale && H.setAttribute('lang', cfg.locale)
      BN && BN.remove()
      BN = pol() && MD != 'form' && !cur() && banner()
      BN && R.prepend(BN)
      sync()
    },
    load = re => fetch(U + 'config?lang=' + encodeURIComponent(D.lang || N.language || ''), { cache: re ? 'no-cache' : 'default' })
      .then(r => { if (!r.ok) throw r.status; return r.json() })
      .then(c => { cfg = c; draw() }, e => console.warn('ContactConsent config', e))
      .then(() => {
        if (rdy) return
        rdy = 1
        const s = cur()
        gt(s)
        fire('ready', s)
        pend.splice(0).forEach(([k, ...a]) => X[k](...a))
      }),
    // Public API; calls that need the config wait for it.
    A = {
      openForm: () => {
        if (!F || F.done) F = form()
        F.t0 = F.t0 || now()
        modal(t('form_title'), F.el)
      },
      openPreferences: () => {
        const P = (cur() || {}).purposes || {}
        modal(t('preferences_title'), ...cfg.purposes.map(({ key: k, label: l, description: ds, required: q }) => {
          const id = 'cc-p-' + k
          return h('div', { class: 'cb' },
            h('input', { type: 'checkbox', id, checked: q || !!P[k], disabled: q, 'aria-describedby': id + 'd' }),
            h('label', { for: id }, l || t('purpose_' + k), q && ' (' + t('always_on') + ')'),
            h('p', { id: id + 'd' }, ds || t('purpose_' + k + '_desc')))
        }), h('div', {},
          B('save', () => decide('custom', Object.fromEntries(cfg.purposes.map(x => [x.key, R.getElementById('cc-p-' + x.key).checked])), PS)),
          ...both(PS)))
      },
      withdraw: () => decide('withdraw', 0, PS)
    },
    X = {
      getConsent: cur,
      on: (e, f) => { on(d, CE + e, v => f(v.detail)); e == 'ready' && rdy && f(cur()) },
      push: (...c) => c.forEach(([k, ...a]) => X[k] && X[k](...a))
    },
    cbs = {}
  let cfg, st = ls(K) || {}, H, R, BN, PC, FL, M, F, rdy, busy, tm, bo = 0, mem = [], pend = [], vt = 0, vs = d.hidden ? 0 : now()

  // Google Consent Mode v2: everything denied until a decision
  if (G) {
    w.dataLayer = w.dataLayer || []
    w.gtag = w.gtag || function () { w.dataLayer.push(arguments) }
    w.gtag('consent', 'default', { ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'denied' })
  }
  for (const k in A) X[k] = (...a) => rdy ? pol() && A[k](...a) : pend.push([k, ...a])
  w.ContactConsent = X
  Array.isArray(Q) && X.push(...Q)
  on(w, 'online', () => { bo = 0; go() })
  on(d, 'visibilitychange', () => d.hidden ? eng() : vs = now())
  on(w, 'pagehide', eng)
  bc({ type: 'pageview' })
  go()
  load()
})(window, document, navigator)
