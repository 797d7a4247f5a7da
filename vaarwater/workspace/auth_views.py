"""Back-office login: username, password and the six-digit code from an authenticator app.

A wrong password or a wrong code gets the same message (which of the two was wrong is not
told) and counts as a failed login for django-axes, which locks the username out from that
address after ``AXES_FAILURE_LIMIT`` failures. There is no login without the second factor: a
user without a confirmed TOTP device is told to ask an administrator for one
(``vaarwater user totp USERNAME``)."""

from django import forms
from django.contrib.auth import authenticate, user_logged_in
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from .access import is_verified


class LoginForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.RegexField(
        label=gettext_lazy("Code from your authenticator app"),
        regex=r"^\s*\d{6,8}\s*$",
        error_messages={"invalid": gettext_lazy("Type the six digits your app shows.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"\s*[0-9]{6,8}\s*",
            }
        ),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


@sensitive_post_parameters("password", "code")
@csrf_protect
@never_cache
def login(request):
    """Log in with password and TOTP code; on success go where the user was going."""
    if is_verified(request.user) and request.method == "GET":
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            # The axes middleware answers with the lockout page.
            return TemplateResponse(request, "workspace/locked_out.html", status=429)
        if user is not None and not user_has_device(user, confirmed=True):
            error = _(
                "Your account has no authenticator app yet. Ask an administrator to set one "
                "up for you."
            )
        elif user is not None and (device := match_token(user, form.cleaned_data["code"].strip())):
            auth_login(request, user)
            otp_login(request, device)
            return redirect(_next_url(request))
        else:
            if user is not None:  # right password, wrong code: a failed login all the same
                user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=request
                )
            error = _("The username, password or code is not right. Try again.")
    return TemplateResponse(
        request,
        "workspace/login.html",
        {"form": form, "error": error, "next": _next_url(request)},
        status=401 if error else 200,
    )


@require_POST
def logout(request):
    auth_logout(request)
    return redirect("workspace:login")


__all__ = ["login", "logout", "user_logged_in"]
