"""Which channel suits a debtor best. Until response history is learned, the strategy's order.

``best_channel`` is the one place the strategy engine asks; a learned model replaces its
inside without changing its signature.
"""

NAMES = {"email": "e-mail", "sms": "sms", "whatsapp": "WhatsApp", "letter": "brief"}


def best_channel(debtor_id: int, reachable: set[str], order) -> tuple[str | None, str]:
    """Return (channel, why) for a message with channel ``best``; (None, why) if none is open.

    >>> best_channel(1, {"sms", "letter"}, ("email", "sms", "whatsapp", "letter"))
    ('sms', 'beste kanaal: sms (eerste bereikbare in de volgorde e-mail, sms, WhatsApp, brief)')
    """
    for channel in order:
        if channel in reachable:
            names = ", ".join(NAMES[c] for c in order)
            return (
                channel,
                f"beste kanaal: {NAMES[channel]} (eerste bereikbare in de volgorde {names})",
            )
    return None, "geen bereikbaar kanaal"
