"""The portal's pages, all under the personal link ``/p/<token>/`` (and the fallback login).

Each group of pages keeps its own routes beside its views; this module joins them.
"""

from django.urls import path

from . import assist_views, login_views, pay_views, plan_views, selfservice_views, views

app_name = "portal"
urlpatterns = [
    path("p/", login_views.login, name="login"),
    path("p/<str:token>/", views.landing, name="landing"),
    *pay_views.urlpatterns,
    *selfservice_views.urlpatterns,
    *plan_views.urlpatterns,
    *assist_views.urlpatterns,
]
