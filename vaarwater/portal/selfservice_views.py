"""Self-service: defer to payday, payment plan, report a problem, help, my details, callback."""

from django.http import HttpResponse
from django.urls import path

from .access import portal_view


@portal_view
def _todo(request, **kwargs):
    return HttpResponse("not yet")


urlpatterns = [
    path("p/<str:token>/uitstel/", _todo, name="defer"),
    path("p/<str:token>/regeling/", _todo, name="plan"),
    path("p/<str:token>/probleem/", _todo, name="problem"),
    path("p/<str:token>/hulp/", _todo, name="help"),
    path("p/<str:token>/gegevens/", _todo, name="details"),
    path("p/<str:token>/terugbellen/", _todo, name="callback"),
]
