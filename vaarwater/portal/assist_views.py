"""FAQ and chat assistant."""

from django.http import HttpResponse
from django.urls import path

from .access import portal_view


@portal_view
def _todo(request, **kwargs):
    return HttpResponse("not yet")


urlpatterns = [
    path("p/<str:token>/vragen/", _todo, name="faq"),
    path("p/<str:token>/chat/", _todo, name="chat"),
]
