"""Built-in widget texts per language; a site's own `texts` override any of them."""

from __future__ import annotations

from collections.abc import Mapping

# Keys are part of the widget <-> server agreement: static/widget.js reads exactly these
# (and carries the English ones as its own fallback).
DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "notice_title": "Your privacy",
        "notice_intro": "We ask before we use anything beyond what this site needs to work.",
        "accept_all": "Accept all",
        "reject_all": "Reject all",
        "choose": "Choose",
        "save": "Save choices",
        "privacy_choices": "Privacy choices",
        "preferences_title": "Privacy choices",
        "read_policy": "Read the full text",
        "hide_policy": "Hide the full text",
        "policy_link": "terms and privacy notice",
        "always_on": "Always on",
        "close": "Close",
        "form_open": "Tell me more",
        "form_title": "Tell me more",
        "send": "Send",
        "sending": "Sending…",
        "sent": "Thank you. We received your request.",
        "queued": "You seem to be offline. We will send it as soon as you are back.",
        "agree": "By sending you agree to our",
        "required": "This field is required.",
        "invalid_email": "Enter a valid e-mail address.",
        "too_long": "This is too long.",
        "error": "Something went wrong. Please try again.",
        "name": "Name",
        "email": "E-mail",
        "phone": "Phone",
        "message": "Message",
        "marketing_opt_in": "Send me occasional news and offers.",
        "purpose_necessary": "Necessary",
        "purpose_necessary_desc": "Needed for the site to work. Always on.",
        "purpose_analytics": "Analytics",
        "purpose_analytics_desc": "Helps us understand how the site is used.",
        "purpose_marketing": "Marketing",
        "purpose_marketing_desc": "Lets us show you relevant offers.",
    },
    "de": {
        "notice_title": "Ihre Privatsphäre",
        "notice_intro": "Wir fragen, bevor wir mehr nutzen, als diese Seite zum Funktionieren braucht.",
        "accept_all": "Alle akzeptieren",
        "reject_all": "Alle ablehnen",
        "choose": "Auswählen",
        "save": "Auswahl speichern",
        "privacy_choices": "Datenschutz-Einstellungen",
        "preferences_title": "Datenschutz-Einstellungen",
        "read_policy": "Vollständigen Text lesen",
        "hide_policy": "Text ausblenden",
        "policy_link": "Nutzungsbedingungen und Datenschutzhinweise",
        "always_on": "Immer aktiv",
        "close": "Schließen",
        "form_open": "Mehr erfahren",
        "form_title": "Mehr erfahren",
        "send": "Senden",
        "sending": "Wird gesendet…",
        "sent": "Danke. Wir haben Ihre Anfrage erhalten.",
        "queued": "Sie scheinen offline zu sein. Wir senden, sobald Sie wieder online sind.",
        "agree": "Mit dem Senden stimmen Sie zu:",
        "required": "Dieses Feld ist erforderlich.",
        "invalid_email": "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        "too_long": "Dieser Text ist zu lang.",
        "error": "Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.",
        "name": "Name",
        "email": "E-Mail",
        "phone": "Telefon",
        "message": "Nachricht",
        "marketing_opt_in": "Senden Sie mir gelegentlich Neuigkeiten und Angebote.",
        "purpose_necessary": "Notwendig",
        "purpose_necessary_desc": "Für den Betrieb der Seite nötig. Immer aktiv.",
        "purpose_analytics": "Statistik",
        "purpose_analytics_desc": "Hilft uns zu verstehen, wie die Seite genutzt wird.",
        "purpose_marketing": "Marketing",
        "purpose_marketing_desc": "Ermöglicht uns, Ihnen passende Angebote zu zeigen.",
    },
    "fr": {
        "notice_title": "Votre vie privée",
        "notice_intro": "Nous demandons avant d'utiliser plus que ce dont ce site a besoin.",
        "accept_all": "Tout accepter",
        "reject_all": "Tout refuser",
        "choose": "Choisir",
        "save": "Enregistrer mes choix",
        "privacy_choices": "Choix de confidentialité",
        "preferences_title": "Choix de confidentialité",
        "read_policy": "Lire le texte complet",
        "hide_policy": "Masquer le texte",
        "policy_link": "conditions et politique de confidentialité",
        "always_on": "Toujours actif",
        "close": "Fermer",
        "form_open": "En savoir plus",
        "form_title": "En savoir plus",
        "send": "Envoyer",
        "sending": "Envoi…",
        "sent": "Merci. Nous avons bien reçu votre demande.",
        "queued": "Vous semblez hors ligne. Nous l'enverrons dès votre retour.",
        "agree": "En envoyant, vous acceptez nos",
        "required": "Ce champ est obligatoire.",
        "invalid_email": "Saisissez une adresse e-mail valide.",
        "too_long": "Ce texte est trop long.",
        "error": "Une erreur est survenue. Veuillez réessayer.",
        "name": "Nom",
        "email": "E-mail",
        "phone": "Téléphone",
        "message": "Message",
        "marketing_opt_in": "Envoyez-moi de temps en temps des nouvelles et des offres.",
        "purpose_necessary": "Nécessaire",
        "purpose_necessary_desc": "Indispensable au fonctionnement du site. Toujours actif.",
        "purpose_analytics": "Statistiques",
        "purpose_analytics_desc": "Nous aide à comprendre l'utilisation du site.",
        "purpose_marketing": "Marketing",
        "purpose_marketing_desc": "Nous permet de vous proposer des offres pertinentes.",
    },
}


def texts_for(
    lang: str, default_lang: str, overrides: dict[str, dict[str, str]]
) -> tuple[str, dict[str, str]]:
    """Pick the language (exact, then primary subtag, then site default, then English) and merge."""
    chosen = _pick(lang, default_lang, overrides)
    base = dict(DEFAULT_TEXTS["en"])
    base.update(DEFAULT_TEXTS.get(chosen.split("-")[0], {}))
    for key in (chosen.split("-")[0], chosen):
        base.update(overrides.get(key, {}))
    return chosen, base


def _pick(lang: str, default_lang: str, overrides: dict[str, dict[str, str]]) -> str:
    known = set(DEFAULT_TEXTS) | set(overrides)
    for cand in (lang, lang.split("-")[0], default_lang, default_lang.split("-")[0]):
        if cand and cand in known:
            return cand
    return "en"


Localized = str | Mapping[str, str]


def pick(value: Localized, lang: str, default_lang: str) -> str:
    """One text for the chosen language: exact, primary subtag, site default, English, any."""
    if isinstance(value, str):
        return value
    for cand in (lang, lang.split("-")[0], default_lang, default_lang.split("-")[0], "en"):
        if cand in value:
            return value[cand]
    return next(iter(value.values()), "")
