/* The info-request form ("Tell me more"). Checked as the visitor goes, sent through the outbox;
   while it is sending, the button stays focusable (aria-disabled, not disabled). The server's
   answer is shown at the fields (422) or as a status. A final refusal of a form that had to wait
   is shown too, in the dialog opened again if it was closed meanwhile. */

import { blank, uid, here } from './util.js'
import { cfg, policy, t, tpl } from './config.js'
import { h, row } from './dom.js'
import { visitorId } from './consent.js'
import { post } from './delivery.js'
import { fire } from './events.js'
import { showForm, policyLink, focusClose } from './ui.js'

// A form, filled with values when given (a request the server refused after it waited).
export function makeForm(values) {
  const { fields, marketing_opt_in: optIn } = cfg.form,
    inputs = blank(), // field name -> [input, its error message]
    value = name => (inputs[name][0].type == 'checkbox' ? inputs[name][0].checked : inputs[name][0].value.trim()),
    mark = (name, message) => {
      inputs[name][1].textContent = message || ''
      inputs[name][0].setAttribute('aria-invalid', !!message)
    },
    // Required fields and e-mail addresses are checked here, lengths by maxlength; the server
    // checks everything again.
    check = ({ name, type, required }) => {
      const v = value(name),
        problem = required && !v ? 'required' : type == 'email' && v && !/^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(v) && 'invalid_email'
      mark(name, problem && t(problem))
      return !problem
    },
    optInBox = optIn && h('input', { type: 'checkbox', id: 'cc-f-mk' }),
    trap = h('input', { name: 'hp', class: 'hp', tabindex: -1, autocomplete: 'off', 'aria-hidden': 'true' }),
    send = h('button', {}, t('send')),
    status = h('p', { role: 'status' }),
    setSending = on => {
      send.setAttribute('aria-disabled', (sending = on))
      send.textContent = t(on ? 'sending' : 'send')
    },
    form = h(
      'form',
      {
        novalidate: true,
        submit(e) {
          const data = {},
            bad = fields.filter(f => !check(f))[0]
          e.preventDefault()
          if (sending) return
          if (bad) return inputs[bad.name][0].focus()
          setSending(true)
          status.textContent = ''
          for (const { name } of fields) value(name) !== '' && (data[name] = value(name))
          post(
            'requests',
            {
              event_id: uid(),
              visitor_id: visitorId(),
              policy_version: policy().version,
              fields: data,
              marketing_opt_in: !!(optInBox && optInBox.checked),
              page_url: here(),
              language: cfg.locale,
              hp: trap.value,
              elapsed_ms: Date.now() - self.started,
            },
            result,
          )
        },
      },
      ...fields.map(field => {
        const { name, type, options } = field,
          id = 'cc-f-' + name,
          error = h('p', { id: id + 'e', class: 'er' }),
          input = h(
            options || type == 'textarea' ? (options ? 'select' : type) : 'input',
            {
              id,
              name,
              type: !options && type != 'textarea' && type,
              required: field.required,
              maxlength: field.max_length,
              autocomplete: field.autocomplete,
              'aria-describedby': id + 'e',
              change: () => check(field),
              input: () => error.textContent && check(field),
            },
            ...(options || []).map(o => h('option', { value: o.value }, o.label)),
          )
        if (values && name in values) input[type == 'checkbox' ? 'checked' : 'value'] = values[name]
        inputs[name] = [input, error]
        return row(input, h('label', { for: id, class: field.required && 'rq' }, field.label), error)
      }),
      optIn && row(optInBox, h('label', { for: 'cc-f-mk' }, optIn.label)),
      h('p', {}, ...tpl('agree', { link: policyLink() })),
      trap,
      send,
    ),
    self = { el: h('div', {}, form, status), result }
  let sending, waited

  // The server's answer: status 0 (none yet: the form waits in the outbox), 2xx, or a refusal;
  // late when the form had waited (on this page or an earlier one) before it was refused.
  function result(code, answer, late) {
    let first
    waited = waited || late
    if (!code) return (waited = status.textContent = t('queued'))
    if (code < 300) {
      self.done = form.hidden = true
      status.textContent = t('sent')
      focusClose()
      return fire('submitted', { id: (answer || 0).id })
    }
    setSending(false)
    for (const [key, messages] of Object.entries((answer && answer.errors) || {})) {
      const name = key.replace(/^fields\./, '') // 422 errors: {"fields.NAME" or "NAME": [messages]}
      if (inputs[name]) {
        mark(name, [].concat(messages).join(' '))
        first = first || inputs[name][0]
      }
    }
    self.el.isConnected || showForm(self)
    first ? first.focus() : (status.textContent = t(waited ? 'not_sent' : 'error'))
  }

  return self
}
