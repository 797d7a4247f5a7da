from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("contact/", include("vaarwater.contact.urls")),
    path("", include("vaarwater.portal.urls")),
    path("", include("vaarwater.payments.urls")),
    path("", include("vaarwater.contact.public_urls")),
    path("", include("vaarwater.workspace.urls")),
]
