"""The fallback login page: case reference + postcode + house number → the personal pages."""

from django import forms
from django.conf import settings
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from .login import RateLimited, portal_login


class LoginForm(forms.Form):
    reference = forms.CharField(
        label=_("File number"),
        max_length=20,
        help_text=_("On our letter or message, for example 000123-4."),
    )
    postcode = forms.CharField(
        label=_("Postcode"), max_length=10, help_text=_("For example 1234 AB.")
    )
    house_number = forms.CharField(
        label=_("House number"), max_length=12, help_text=_("With addition, for example 12A.")
    )


def client_address(request) -> str:
    """The client's address; behind a proxy (``PORTAL_BEHIND_PROXY``) the one it reports."""
    if getattr(settings, "PORTAL_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


@require_http_methods(["GET", "POST"])
def login(request):
    """Log in without the personal link; every failure gets the same answer."""
    form = LoginForm(request.POST or None)
    failed = limited = False
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            result = portal_login(
                reference=form.cleaned_data["reference"],
                postcode=form.cleaned_data["postcode"],
                house_number=form.cleaned_data["house_number"],
                client=client_address(request),
            )
        except RateLimited:
            limited, status = True, 429
        else:
            if result is not None:
                return redirect("portal:landing", token=result.token)
            failed = True
    response = TemplateResponse(
        request,
        "portal/login.html",
        {"form": form, "failed": failed, "limited": limited},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
