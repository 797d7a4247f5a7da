"""The fallback login: case reference + postcode + house number (written in this issue)."""

from django.http import HttpResponse


def login(request):
    return HttpResponse("not yet")
