"""Back-office pages for message templates: which texts a creditor uses, a preview with a sample
customer, and the creditor's own wording (saved after the sandbox check, or restored to the
shipped default)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from vaarwater.contact.models import Channel
from vaarwater.contact.rendering import (
    CHANNELS,
    LANGUAGES,
    MAX_BODY_CHARS,
    TEMPLATE_KEYS,
    VARIABLES,
    Source,
    TemplateError,
    message_template_restore,
    message_template_save,
    sample_render,
    shipped_source,
    sms_segments,
    template_check,
    template_override_get,
    template_overrides,
)
from vaarwater.core.events import Actor
from vaarwater.ledger.models import Language, Role

from .access import back_office_required, has_role
from .selectors import visible_creditors

LANGUAGE_NAMES = dict(Language.choices)
WITH_SUBJECT = (Channel.EMAIL, Channel.LETTER)


class TemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Text"),
        max_length=MAX_BODY_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
    )

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        if channel not in WITH_SUBJECT:
            del self.fields["subject"]


def _must_administer(user, creditor) -> None:
    """Changing what every customer reads is for the creditor's administrators."""
    if not has_role(user, creditor, Role.ADMINISTRATOR):
        raise PermissionDenied


def _creditor(request, creditors):
    """The creditor a page is about: ``creditor`` (a code) from the query or form, else the
    user's first. 404 for a code the user may not see."""
    code = request.POST.get("creditor") or request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    return creditor


def _known(key: str, channel: str, language: str) -> None:
    if key not in TEMPLATE_KEYS or channel not in CHANNELS or language not in LANGUAGES:
        raise Http404("unknown template")


def _detail_url(creditor, key: str, channel: str, language: str) -> str:
    url = reverse("workspace:template_detail", args=[key, channel, language])
    return f"{url}?{urlencode({'creditor': creditor.code})}"


def _list_url(creditor) -> str:
    return f"{reverse('workspace:template_list')}?{urlencode({'creditor': creditor.code})}"


@back_office_required
def template_list(request):
    """List every template key per channel and language: the shipped default or own text."""
    creditors = visible_creditors(request.user)
    creditor = _creditor(request, creditors)
    rows = []
    if creditor is not None:
        own = template_overrides(creditor)
        for key, label in TEMPLATE_KEYS.items():
            for channel in CHANNELS:
                cells = []
                for language in LANGUAGES:
                    row = own.get((key, channel, language))
                    cells.append(
                        {
                            "language": language,
                            "own": row,
                            "url": _detail_url(creditor, key, channel, language),
                        }
                    )
                rows.append(
                    {
                        "key": key,
                        "label": label,
                        "channel": Channel(channel).label,
                        "cells": cells,
                    }
                )
    context = {
        "creditors": creditors,
        "creditor": creditor,
        "rows": rows,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES],
    }
    return TemplateResponse(request, "workspace/template_list.html", context)


def _preview(creditor, key, channel, language, source: Source | None = None) -> dict:
    try:
        content = sample_render(
            creditor=creditor, key=key, channel=channel, language=language, source=source
        )
    except TemplateError as exc:
        return {"error": str(exc)}
    preview = {"content": content}
    if channel == Channel.SMS:
        preview["segments"], preview["encoding"] = sms_segments(content.text)
    return preview


@back_office_required
def template_detail(request, key: str, channel: str, language: str):
    """Show one template with a preview for a sample customer, its variables and an edit form;
    POST saves the creditor's own text (``action=save``) or only previews the draft."""
    _known(key, channel, language)
    creditor = _creditor(request, visible_creditors(request.user))
    if creditor is None:
        raise Http404("no creditor")
    own = template_override_get(creditor=creditor, key=key, channel=channel, language=language)
    draft = None
    if request.method == "POST":
        form = TemplateForm(request.POST, channel=channel)
        if form.is_valid():
            subject = form.cleaned_data.get("subject", "")
            body = form.cleaned_data["body"]
            try:
                if request.POST.get("action") == "preview":
                    draft = template_check(
                        creditor=creditor,
                        key=key,
                        channel=channel,
                        language=language,
                        subject=subject if channel in WITH_SUBJECT else "",
                        body=body.replace("\r\n", "\n"),
                    )
                else:
                    _must_administer(request.user, creditor)
                    message_template_save(
                        creditor=creditor,
                        key=key,
                        channel=channel,
                        language=language,
                        subject=subject,
                        body=body,
                        actor=Actor.for_user(request.user),
                    )
                    messages.success(request, _("Your own text is saved and used from now on."))
                    return redirect(_detail_url(creditor, key, channel, language))
            except ValidationError as exc:
                form.add_error(None, exc)
    else:
        current = own or shipped_source(key, channel, language)
        initial = {"subject": current.subject, "body": current.body} if current else {}
        form = TemplateForm(initial=initial, channel=channel)
    context = {
        "creditor": creditor,
        "many_creditors": visible_creditors(request.user).count() > 1,
        "key": key,
        "label": TEMPLATE_KEYS[key],
        "channel": channel,
        "channel_name": Channel(channel).label,
        "language": language,
        "language_name": LANGUAGE_NAMES.get(language, language),
        "own": own,
        "form": form,
        "draft": draft is not None,
        "preview": _preview(creditor, key, channel, language, draft),
        "variables": [("{{ " + name + " }}", text) for name, text in VARIABLES.items()],
        "list_url": _list_url(creditor),
    }
    return TemplateResponse(request, "workspace/template_detail.html", context)


@back_office_required
@require_POST
def template_restore(request, key: str, channel: str, language: str):
    """Delete the creditor's own text: the shipped default is used again."""
    _known(key, channel, language)
    creditor = _creditor(request, visible_creditors(request.user))
    if creditor is None:
        raise Http404("no creditor")
    _must_administer(request.user, creditor)
    restored = message_template_restore(
        creditor=creditor,
        key=key,
        channel=channel,
        language=language,
        actor=Actor.for_user(request.user),
    )
    if restored:
        messages.success(request, _("The shipped default text is used again."))
    return redirect(_detail_url(creditor, key, channel, language))
