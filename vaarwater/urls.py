from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite

from vaarwater.api.api import api

# The admin asks for the second factor too, and logs in through the back office's login page.
admin.site.__class__ = OTPAdminSite


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="workspace:login", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("contact/", include("vaarwater.contact.urls")),
    path("", include("vaarwater.portal.urls")),
    path("", include("vaarwater.payments.urls")),
    path("", include("vaarwater.contact.public_urls")),
    path("", include("vaarwater.workspace.urls")),
]
