"""The WhatsApp Cloud API's names and numbers, and our approved templates.

A business may start a WhatsApp conversation only with a template Meta approved. Every
Vaarwater template key maps to one approved template (category UTILITY, in Dutch ``nl`` and
English ``en`` under the same name) whose body takes the parameters listed, in this order.
The wording to submit to Meta is in docs/contact.md; a changed template needs a new approval.

Error codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
"""

from typing import NamedTuple

API_HOST = "https://graph.facebook.com"
API_VERSION = "v23.0"


class Template(NamedTuple):
    name: str  # the approved template's name at Meta
    params: tuple[str, ...]  # body parameters {{1}}, {{2}}, … (see PARAMETERS)


# Vaarwater template key → approved WhatsApp template.
TEMPLATES: dict[str, Template] = {
    "herinnering": Template("vaarwater_herinnering", ("naam", "bedrag", "link")),
    "aanmaning": Template("vaarwater_aanmaning", ("naam", "bedrag", "link")),
    "veertiendagenbrief": Template(
        "vaarwater_veertiendagenbrief", ("naam", "bedrag", "kosten", "link")
    ),
    "regeling-aanbod": Template("vaarwater_regeling_aanbod", ("naam", "link")),
    "schuldhulp-verwijzing": Template("vaarwater_schuldhulp_verwijzing", ("naam", "link")),
    "overdracht-aankondiging": Template(
        "vaarwater_overdracht_aankondiging", ("naam", "bedrag", "link")
    ),
    "regeling-bevestiging": Template("vaarwater_regeling_bevestiging", ("naam", "link")),
    "termijn-gemist": Template("vaarwater_termijn_gemist", ("naam", "bedrag", "link")),
    "termijn-herinnering": Template(
        "vaarwater_termijn_herinnering", ("naam", "bedrag", "betaallink")
    ),
    "termijn-bedankt": Template("vaarwater_termijn_bedankt", ("naam", "link")),
    "regeling-voltooid": Template("vaarwater_regeling_voltooid", ("naam", "link")),
    "regeling-beeindigd": Template("vaarwater_regeling_beeindigd", ("naam", "bedrag", "link")),
    "bedankt-betaling": Template("vaarwater_bedankt_betaling", ("naam", "link")),
    "betaalverzoek": Template("vaarwater_betaalverzoek", ("naam", "bedrag", "betaallink")),
    "uitstel-herinnering": Template("vaarwater_uitstel_herinnering", ("naam", "link")),
    "verificatiecode": Template("vaarwater_verificatiecode", ("code",)),
    "melding-ontvangen": Template("vaarwater_melding_ontvangen", ("naam", "link")),
    "incasso-vooraankondiging": Template(
        "vaarwater_incasso_vooraankondiging", ("naam", "datum", "bedrag", "link")
    ),
    "incasso-gestorneerd": Template("vaarwater_incasso_gestorneerd", ("naam", "bedrag", "link")),
}

# Where each body parameter comes from: the message's ``context`` keys, first one present wins
# (``naam`` falls back to the debtor's name, ``link`` to PUBLIC_URL). Amounts in cents are
# written as Dutch or English euros.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "naam": ("name", "debtor_name"),
    "bedrag": ("amount", "amount_cents", "request_cents", "claim_cents"),
    "kosten": ("costs", "costs_cents"),
    "link": ("portal_url", "payment_url"),
    "betaallink": ("payment_url", "portal_url"),
    "code": ("code",),
    # A day written out in the message's language by the code that queues it.
    "datum": ("collection_day",),
}

# Our language → the template language code the templates were approved in.
LANGUAGES = {"nl": "nl", "en": "en"}

# Every (template name, language) → number of body parameters: what the simulator accepts.
APPROVED = {
    (template.name, code): len(template.params)
    for template in TEMPLATES.values()
    for code in LANGUAGES.values()
}

# Statuses a webhook reports, mapped to ours ("deleted", "warning" and others are ignored).
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}

# The number cannot receive WhatsApp messages (not on WhatsApp, or undeliverable): invalid.
CONTACT_INVALID = {131026}
# Trying again later may work: rate limits, throttling, Meta having a bad moment.
# 4 app rate limit, 80007 account rate limit, 130429 throughput, 131056 pair rate limit,
# 1 / 2 unknown error / service unavailable, 131000 something went wrong, 131016 overloaded.
TEMPORARY = {1, 2, 4, 80007, 130429, 131056, 131000, 131016}
# Our access token was refused (expired, revoked): fixing the settings makes a retry work.
AUTHENTICATION = {190}

# Dutch explanations shown on the message's history.
ERROR_TEXTS = {
    1: "onbekende fout bij WhatsApp",
    190: "toegangstoken geweigerd (controleer WHATSAPP_TOKEN)",
    100: "ongeldige parameter",
    130429: "te veel berichten per seconde",
    131026: "niet afleverbaar: nummer heeft geen WhatsApp",
    131030: "nummer staat niet op de lijst van toegestane testnummers",
    131047: "buiten het 24-uursvenster alleen een template toegestaan",
    131049: "niet afgeleverd om de ontvanger niet te overladen",
    131056: "te veel berichten naar dit nummer",
    132000: "aantal parameters past niet bij de template",
    132001: "template bestaat niet (in deze taal)",
    132015: "template gepauzeerd door WhatsApp",
    132016: "template uitgeschakeld door WhatsApp",
}
