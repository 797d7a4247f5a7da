"""The API's URLs, for ``include("vaarwater.api.urls")`` at the root."""

from django.urls import path

from .api import api

urlpatterns = [path("api/v1/", api.urls)]
