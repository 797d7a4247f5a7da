"""Pay now: iDEAL through Mollie, and the page the debtor returns to."""

from django.http import HttpResponse
from django.urls import path

from .access import portal_view


@portal_view
def _todo(request, **kwargs):
    return HttpResponse("not yet")


urlpatterns = [
    path("p/<str:token>/betalen/", _todo, name="pay"),
    path("p/<str:token>/betaling/<int:pk>/", _todo, name="pay_return"),
]
