"""Twilio's names and numbers that the SMS adapter acts on.

Error codes: https://www.twilio.com/docs/api/errors
"""

# Where the ``twilio`` library sends its requests; ``TWILIO_API_BASE`` replaces this prefix.
API_HOST = "https://api.twilio.com"

# Statuses a status callback reports, mapped to ours. Statuses missing here (queued, accepted,
# scheduled, sending, canceled, receiving, received) say nothing new and are ignored.
STATUS_MAP = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
}

# Refused at send time because the number itself is wrong: the contact point is invalid.
# 21211 invalid 'To' number, 21217 number does not appear valid, 21401 invalid phone number,
# 21612 'To' cannot be reached by SMS, 21614 'To' is not a mobile number.
SEND_CONTACT_INVALID = {21211, 21217, 21401, 21612, 21614}
# Reported afterwards (ErrorCode on undelivered/failed) when the number does not work:
# 30005 unknown destination handset (does not exist), 30006 landline or unreachable carrier.
# Not 30003 (handset switched off or out of coverage): that is a soft bounce, the number is
# fine and a later message may well arrive, so it fails the message but keeps the number.
STATUS_CONTACT_INVALID = {30005, 30006} | SEND_CONTACT_INVALID
# The recipient replied STOP to our Twilio number: Twilio refuses further messages to them.
UNSUBSCRIBED = 21610
# Trying again later may work: too many requests, queue overflow.
TEMPORARY = {20429, 30001}
# Our credentials were refused: fixing the settings makes a retry succeed.
AUTHENTICATION = {20003, 20005, 20006}

# Dutch explanations shown on the message's history.
ERROR_TEXTS = {
    20003: "aanmelding bij Twilio geweigerd (controleer TWILIO_ACCOUNT_SID en TWILIO_AUTH_TOKEN)",
    20429: "te veel verzoeken tegelijk bij Twilio",
    21211: "ongeldig telefoonnummer",
    21217: "ongeldig telefoonnummer",
    21401: "ongeldig telefoonnummer",
    21408: "Twilio mag niet naar dit land versturen",
    21610: "ontvanger heeft zich afgemeld (STOP) bij Twilio",
    21612: "nummer is niet per sms bereikbaar",
    21614: "geen mobiel nummer",
    30001: "wachtrij bij Twilio vol",
    30003: "telefoon uit of buiten bereik",
    30004: "bericht geblokkeerd",
    30005: "onbekend nummer (bestaat niet)",
    30006: "vaste lijn of onbereikbare provider",
    30007: "door de provider tegengehouden (filter)",
    30008: "onbekende fout bij de provider",
}

# An empty TwiML reply: "received, send nothing back" (Twilio expects XML on inbound webhooks).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
