from django.contrib import admin
from django.urls import include, path, reverse
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite

# The admin asks for the second factor too, and logs in through the back office's login page.
admin.site.__class__ = OTPAdminSite


class AdminLoginRedirect(RedirectView):
    query_string = True

    def get_redirect_url(self, *args, **kwargs):
        return reverse("workspace:login")


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", AdminLoginRedirect.as_view()),
    path("admin/", admin.site.urls),
    path("contact/", include("vaarwater.contact.urls")),
    path("", include("vaarwater.portal.urls")),
    path("", include("vaarwater.payments.urls")),
    path("", include("vaarwater.contact.public_urls")),
    path("", include("vaarwater.workspace.urls")),
]
