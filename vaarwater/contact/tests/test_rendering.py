"""Message texts: shipped defaults for every key, channel and language, the legal wording of the
14-day letter, SMS length, a creditor's own text in the sandbox, personal links."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from vaarwater.contact import rendering
from vaarwater.contact.models import Message, MessageTemplate
from vaarwater.contact.rendering import (
    CHANNELS,
    INVALID,
    LANGUAGES,
    MESSAGES_DIR,
    NO_LINK_KEYS,
    TEMPLATE_KEYS,
    TERM_WORDING,
    VARIABLES,
    TemplateBroken,
    TemplateMissing,
    message_content,
    message_template_restore,
    message_template_save,
    message_variables,
    sample_message,
    sample_render,
    sandbox_compile,
    sms_segments,
)
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import Debtor
from vaarwater.portal.models import AccessToken
from vaarwater.portal.tokens import access_token_check
from vaarwater.workspace.tests.factories import DOCUMENT, case_create, version_create

pytestmark = pytest.mark.django_db

ALL = [(k, c, lang) for k in TEMPLATE_KEYS for c in CHANNELS for lang in LANGUAGES]
ACTOR = Actor("user", "beheerder", None)
# A realistic public address: a creditor's own portal domain, plus the 32-character token.
PUBLIC_URL = "https://mijn.energienoord.nl"


def render(creditor, key, channel, language, **context):
    message = sample_message(creditor=creditor, key=key, channel=channel, language=language)
    message.context.update(context)
    return message_content(message=message)


def saved_message(creditor, *, key="herinnering", channel="email", language="nl", **over):
    debtor = over.pop("debtor", None) or Debtor.objects.create(
        creditor=creditor, external_id="K-77", name="Jan de Vries"
    )
    case = over.pop("case", None)
    return Message.objects.create(
        creditor=creditor,
        debtor=debtor,
        case=case,
        channel=channel,
        template=key,
        language=language,
        not_before=timezone.now(),
        idempotency_key=f"test-{key}-{channel}-{language}-{Message.objects.count()}",
        context={"case": "000012-7", "claim_cents": 12050, "oldest_due": "2026-09-15", **over},
    )


def test_every_shipped_file_exists():
    """Every key has a text for every channel in Dutch and English, and an email layout."""
    for key, channel, language in ALL:
        assert (MESSAGES_DIR / language / f"{key}.{channel}.txt").is_file(), (key, channel)
    for language in LANGUAGES:
        assert (MESSAGES_DIR / language / "_layout.email.html").is_file()


def test_the_engine_is_strict():
    """A variable the context lacks is an error, never a silent gap in a letter."""
    assert rendering._engine().string_if_invalid == INVALID
    with pytest.raises(TemplateBroken, match="claim"):
        rendering._render(sandbox_compile("U moet {{ claim }} betalen"), {}, autoescape=False)


@pytest.mark.parametrize(("key", "channel", "language"), ALL)
def test_every_template_renders_with_sample_data(creditor, key, channel, language):
    """Every key × channel × language renders for the sample customer with no variable missing:
    a subject for email and letter, HTML for email and letter, the personal link everywhere."""
    content = sample_render(creditor=creditor, key=key, channel=channel, language=language)
    for part in (content.subject, content.text, content.html):
        assert "[[ONGELDIG" not in part
        assert "{{" not in part and "{%" not in part
    assert content.text.strip()
    assert "Energie Noord BV" in content.text  # the customer always sees who writes
    if key in NO_LINK_KEYS:  # a code to an unconfirmed address never carries the link
        assert content.portal_url == "" and "/p/" not in content.text
    else:
        assert content.portal_url in content.text
    if channel in ("email", "letter"):
        assert content.subject
        assert "<p>" in content.html
    else:
        assert content.subject == "" and content.html == ""
    if channel == "email":
        assert content.html.startswith("<!doctype html>")
        assert f'<html lang="{language}">' in content.html


@pytest.mark.parametrize("channel", ["letter", "email", "whatsapp", "sms"])
def test_14_day_letter_dutch_has_legal_wording_and_exact_costs(creditor, channel):
    """The Dutch 14-day letter demands payment within fourteen days from the day after receipt
    and states the exact costs (WIK minimum on € 245,50) and the principal."""
    content = sample_render(
        creditor=creditor, key="veertiendagenbrief", channel=channel, language="nl"
    )
    assert "binnen veertien dagen, te rekenen vanaf de dag na ontvangst van deze brief" in (
        content.text
    )
    money = "EUR " if channel == "sms" else "€ "
    assert f"{money}40,00" in content.text
    assert f"{money}245,50" in content.text
    assert "na dagtekening" not in content.text
    assert "btw" not in content.text  # the sample creditor can reclaim VAT


def test_14_day_letter_english_wording(creditor):
    """The English letter uses the English legal wording and English amounts."""
    content = sample_render(
        creditor=creditor, key="veertiendagenbrief", channel="letter", language="en"
    )
    assert "within fourteen days, counting from the day after you receive this letter" in (
        content.text
    )
    assert "€40.00" in content.text and "€245.50" in content.text


def test_14_day_letter_states_vat_when_added(creditor):
    """A creditor that cannot reclaim VAT states the costs with VAT, and the VAT as such."""
    creditor.can_reclaim_vat = False
    creditor.save()
    text = sample_render(
        creditor=creditor, key="veertiendagenbrief", channel="letter", language="nl"
    ).text
    assert "Die kosten zijn € 48,40." in text
    assert "€ 40,00 aan kosten plus € 8,40 btw" in text


def test_14_day_letter_from_the_engine_context(creditor):
    """The context the daily run queues (costs with VAT in costs_cents) renders to the stated
    amounts; the Dutch wording is the one the engine records on the legal notice."""
    from vaarwater.strategy.run import LETTER_WORDING

    assert TERM_WORDING["nl"] == LETTER_WORDING
    content = render(
        creditor,
        "veertiendagenbrief",
        "letter",
        "nl",
        claim_cents=120000,
        principal_cents=100000,
        costs_cents=18150,
        vat_cents=3150,
        term_wording=LETTER_WORDING,
    )
    assert "Betaal € 1.000,00 binnen veertien dagen, te rekenen vanaf" in content.text
    assert "Die kosten zijn € 181,50. Dat is € 150,00 aan kosten plus € 31,50 btw." in (
        content.text
    )
    assert "In totaal staat er nu € 1.200,00 open." in content.text


@override_settings(PUBLIC_URL=PUBLIC_URL)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", list(TEMPLATE_KEYS))
def test_sms_fits_two_gsm7_segments(creditor, key, language):
    """Every SMS is plain GSM-7 (no €, no ë) and at most two parts with a real-length link,
    also for a longer name and with VAT on the costs."""
    creditor.can_reclaim_vat = False
    creditor.save()
    message = sample_message(creditor=creditor, key=key, channel="sms", language=language)
    message.debtor.name = "Jan-Willem van der Berg"
    content = message_content(message=message)
    if key not in NO_LINK_KEYS:
        assert content.portal_url.startswith(PUBLIC_URL + "/p/")
        assert len(content.portal_url) == len(PUBLIC_URL) + 36
        assert content.portal_url in content.text
    segments, encoding = sms_segments(content.text)
    assert encoding == "GSM-7", content.text
    assert segments <= 2, (len(content.text), content.text)


def test_sms_segments_counts():
    """GSM-7 parts of 160/153 septets, € counts double, other characters switch to UCS-2."""
    assert sms_segments("x" * 306) == (2, "GSM-7")
    assert sms_segments("x" * 307) == (3, "GSM-7")
    assert sms_segments("€" * 80) == (1, "GSM-7")
    assert sms_segments("€" * 81) == (2, "GSM-7")
    assert sms_segments("ideeën " * 10) == (1, "UCS-2")
    assert sms_segments("ideeën " * 11) == (2, "UCS-2")


def test_amounts_and_dates_per_language(creditor):
    """Dutch style € 1.234,56 and '15 september 2026'; English €1,234.56 and '15 September'."""
    nl = render(creditor, "herinnering", "email", "nl", claim_cents=123456)
    en = render(creditor, "herinnering", "email", "en", claim_cents=123456)
    assert "€ 1.234,56" in nl.text and "€1,234.56" in en.text
    message = sample_message(creditor=creditor, key="herinnering", channel="email", language="nl")
    message.context["oldest_due"] = "2026-09-15"
    assert message_variables(message=message)["oldest_due"] == "15 september 2026"
    message.language = "en"
    assert message_variables(message=message)["oldest_due"] == "15 September 2026"


def test_variables_are_documented(creditor):
    """message_variables fills exactly the documented variables."""
    for key in TEMPLATE_KEYS:
        message = sample_message(creditor=creditor, key=key, channel="email", language="nl")
        assert set(message_variables(message=message)) == set(VARIABLES)


def test_html_is_escaped_text_is_not(creditor):
    """A name with markup is escaped in the HTML and left as is in the plain text."""
    message = sample_message(creditor=creditor, key="herinnering", channel="email", language="nl")
    message.debtor.name = "Jan <script>alert(1)</script> & Zn"
    content = message_content(message=message)
    assert "Beste Jan <script>alert(1)</script> & Zn," in content.text
    assert "<script>" not in content.html
    assert "Jan &lt;script&gt;alert(1)&lt;/script&gt; &amp; Zn" in content.html
    assert f'<a href="{content.payment_url}">' in content.html


def test_data_sharing_notice_only_for_signalling_sectors(creditor, other_creditor):
    """The second reminder of an energy supplier offers the data sharing with the municipality
    (contact data, arrears and customer number) and the right to object; a housing corporation
    shares no customer number; a webshop says nothing about it."""
    from vaarwater.ledger.services import creditor_create

    energy = sample_render(creditor=creditor, key="aanmaning", channel="letter", language="nl")
    assert "Wij kunnen uw gegevens delen met de gemeente" in energy.text
    assert "klantnummer en het bedrag dat u nog moet betalen" in energy.text
    assert "Wilt u niet dat wij uw gegevens aan de gemeente geven?" in energy.text
    housing = sample_render(
        creditor=other_creditor, key="aanmaning", channel="letter", language="nl"
    )
    assert "Wij kunnen uw gegevens delen met de gemeente" in housing.text
    assert "klantnummer en" not in housing.text
    shop = creditor_create(code="SHOP", name="Webwinkel BV", sector="other")
    plain = sample_render(creditor=shop, key="aanmaning", channel="letter", language="nl")
    assert "gemeente geven" not in plain.text


def test_handover_announcement_names_the_strategy_party(creditor):
    """The hand-over letter names who takes over, from the case's own strategy path."""
    document = {**DOCUMENT, "paths": {**DOCUMENT["paths"]}}
    document["paths"]["standaard"] = [
        *DOCUMENT["paths"]["standaard"],
        {"step": "hand_over", "day": 14, "after": "previous", "to": "bailiff", "party": "GDW"},
    ]
    case = case_create(version_create(creditor, document=document))
    message = saved_message(
        creditor, key="overdracht-aankondiging", channel="letter", case=case, debtor=case.debtor
    )
    text = message_content(message=message).text
    assert "Dan geven wij uw schuld uit handen aan een gerechtsdeurwaarder." in text


def test_saved_message_gets_a_personal_link_once(creditor):
    """Rendering a saved message issues a live personal link for its debtor and case; with the
    link kept in the context, rendering again reuses it (a retry sends the same text)."""
    case = case_create(version_create(creditor))
    message = saved_message(creditor, case=case, debtor=case.debtor)
    content = message_content(message=message)
    token = content.portal_url.rstrip("/").rsplit("/", 1)[-1]
    row = access_token_check(token)
    assert row is not None and row.debtor_id == case.debtor_id and row.case_id == case.pk
    assert content.payment_url == content.portal_url + "betalen/"
    assert content.portal_url in content.text
    message.context["portal_url"] = content.portal_url
    message.context["payment_url"] = content.payment_url
    again = message_content(message=message)
    assert again == content
    assert AccessToken.objects.count() == 1


def test_preview_issues_no_link(creditor):
    """A sample message is never saved and issues no personal link."""
    sample_render(creditor=creditor, key="herinnering", channel="sms", language="nl")
    assert AccessToken.objects.count() == 0
    assert Message.objects.count() == 0


def test_override_beats_default_for_its_creditor_only(creditor, other_creditor):
    """A creditor's own text is used for its messages; another creditor keeps the default."""
    message_template_save(
        creditor=creditor,
        key="herinnering",
        channel="sms",
        language="nl",
        subject="",
        body="Hoi {{ name }}, betaal {{ claim }} via {{ portal_url }}",
        actor=ACTOR,
    )
    own = render(creditor, "herinnering", "sms", "nl")
    assert own.text.startswith("Hoi Jan de Vries, betaal EUR 245,50 via http")
    other = render(other_creditor, "herinnering", "sms", "nl")
    assert other.text.startswith("Woonstichting Zuid: Beste Jan de Vries")


def test_english_falls_back_to_dutch(creditor):
    """A key with only a Dutch text renders it, Dutch-formatted, for an English customer."""
    MessageTemplate.objects.create(
        creditor=creditor,
        key="eigen-actie",
        channel="email",
        language="nl",
        subject="Actie",
        body="U moet {{ claim }} betalen.",
    )
    content = render(creditor, "eigen-actie", "email", "en")
    assert content.text == "U moet € 245,50 betalen."


def test_unknown_key_names_key_channel_and_language(creditor):
    """A key with no text at all is a clear error."""
    with pytest.raises(TemplateMissing) as info:
        render(creditor, "bestaat-niet", "letter", "en")
    assert "'bestaat-niet'" in str(info.value)
    assert "'letter'" in str(info.value) and "'en'" in str(info.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{% load static %}{{ name }}", "{% load %}"),
        ('{% include "contact/letter.html" %}', "{% include %}"),
        ('{% extends "workspace/base.html" %}', "{% extends %}"),
        ("{% debug %}", "{% debug %}"),
        ('{% ssi "/etc/passwd" %}', "{% ssi %}"),
        ('{% now "Y" %}', "{% now %}"),
        ("{% url 'admin:index' %}", "{% url %}"),
        ("{% for c in name %}{{ c }}{% endfor %}", "{% for %}"),
        ("{{ settings.SECRET_KEY }}", "{{ settings }}"),
        ("{{ message.debtor.iban }}", "{{ message }}"),
        ("{{ name.upper }}", "{{ name.upper }}"),
        ("{{ name|safe }}", "safe"),
        ("{{ name|pprint }}", "pprint"),
        ("{% if name %}open", "endif"),
        ("{{ name|default:secret }}", "{{ secret }}"),
    ],
)
def test_forbidden_template_is_refused(creditor, body, reason):
    """Tags outside the sandbox, undocumented variables, lookups, unsafe filters and syntax
    errors are refused with the reason, next to the text; nothing is stored."""
    with pytest.raises(ValidationError) as info:
        message_template_save(
            creditor=creditor,
            key="herinnering",
            channel="sms",
            language="nl",
            subject="",
            body=body,
            actor=ACTOR,
        )
    errors = info.value.message_dict
    assert list(errors) == ["body"]
    assert reason in " ".join(errors["body"])
    assert not MessageTemplate.objects.exists()


def test_subject_is_checked_too(creditor):
    """The subject of an email is a template as well, with the same sandbox."""
    with pytest.raises(ValidationError) as info:
        message_template_save(
            creditor=creditor,
            key="herinnering",
            channel="email",
            language="nl",
            subject="{% load static %}Betaal",
            body="Betaal {{ claim }}",
            actor=ACTOR,
        )
    assert list(info.value.message_dict) == ["subject"]


def test_14_day_letter_override_must_stay_lawful(creditor):
    """Own wording of the 14-day letter must keep the legal term and the exact amounts."""
    with pytest.raises(ValidationError) as info:
        message_template_save(
            creditor=creditor,
            key="veertiendagenbrief",
            channel="letter",
            language="nl",
            subject="Laatste kans",
            body="Betaal {{ principal }} binnen 14 dagen na dagtekening, anders {{ costs }}.",
            actor=ACTOR,
        )
    assert "binnen veertien dagen" in info.value.message_dict["body"][0]
    row = message_template_save(
        creditor=creditor,
        key="veertiendagenbrief",
        channel="letter",
        language="nl",
        subject="Laatste kans",
        body="Betaal {{ principal }} {{ term_wording }}. Anders kost het {{ costs_incl_vat }}.",
        actor=ACTOR,
    )
    assert row.pk


def test_broken_override_fails_loudly(creditor):
    """An own text stored past the checks (an old row, a manual edit) raises when rendered."""
    MessageTemplate.objects.create(
        creditor=creditor, key="herinnering", channel="sms", language="nl", body="{% if x %}"
    )
    with pytest.raises(TemplateBroken, match="own template 'herinnering' \\(sms, nl\\)"):
        render(creditor, "herinnering", "sms", "nl")


def test_save_and_restore_record_events(creditor):
    """Saving and restoring an own text are events with who did it and which text."""
    row = message_template_save(
        creditor=creditor,
        key="bedankt-betaling",
        channel="whatsapp",
        language="en",
        subject="ignored for WhatsApp",
        body="Thanks, {{ name }}!\r\n{{ portal_url }}",
        actor=ACTOR,
    )
    assert row.subject == "" and row.body == "Thanks, {{ name }}!\n{{ portal_url }}"
    assert row.updated_by == "beheerder"
    saved = Event.objects.get(verb="message_template.saved")
    assert saved.actor_label == "beheerder" and saved.subject_id == row.pk
    assert saved.data == {
        "key": "bedankt-betaling",
        "channel": "whatsapp",
        "language": "en",
        "created": True,
    }
    assert message_template_restore(
        creditor=creditor, key="bedankt-betaling", channel="whatsapp", language="en", actor=ACTOR
    )
    assert not MessageTemplate.objects.exists()
    assert Event.objects.filter(verb="message_template.restored").count() == 1
    assert not message_template_restore(
        creditor=creditor, key="bedankt-betaling", channel="whatsapp", language="en", actor=ACTOR
    )


def test_unknown_key_cannot_be_saved(creditor):
    """Only the listed keys, channels and languages have own texts in the back office."""
    with pytest.raises(TemplateMissing):
        message_template_save(
            creditor=creditor,
            key="herinnering",
            channel="fax",
            language="nl",
            subject="",
            body="x",
            actor=ACTOR,
        )


def test_thank_you_says_what_is_left(creditor):
    """The thank-you message says nothing is left only when the context says so."""
    paid = render(creditor, "bedankt-betaling", "email", "nl")
    assert "Alles is betaald." in paid.text
    part = render(creditor, "bedankt-betaling", "email", "nl", remaining_cents=5000)
    assert "Er staat nog € 50,00 open." in part.text
    unknown = render(creditor, "bedankt-betaling", "email", "nl")
    unknown_message = sample_message(
        creditor=creditor, key="bedankt-betaling", channel="email", language="nl"
    )
    del unknown_message.context["remaining_cents"]
    assert "Alles is betaald" not in message_content(message=unknown_message).text
    assert unknown.text == paid.text


def test_sample_dates_follow_today(creditor):
    """The sample 14-day letter assumes receipt after two business days."""
    message = sample_message(
        creditor=creditor, key="veertiendagenbrief", channel="letter", language="nl"
    )
    receipt = message.context["receipt_on"]
    assert receipt > (timezone.localdate() + timedelta(days=1)).isoformat()
