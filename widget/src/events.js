/* The widget's DOM events on document: contactconsent:ready, :change and :submitted. */

export const PREFIX = 'contactconsent:'

export const fire = (name, detail) => document.dispatchEvent(new CustomEvent(PREFIX + name, { __proto__: null, detail }))
