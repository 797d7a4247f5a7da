"""Payment links (``/b/<code>/``) and the payment provider's webhook.

The webhook URL to give Mollie is ``PUBLIC_URL`` + ``/payments/webhooks/mollie/``; Vaarwater
sends it along with every payment, so nothing needs to be set in Mollie's dashboard.
"""

from django.urls import path

from . import views
from .providers.mollie import webhooks

app_name = "payments"
urlpatterns = [
    path("b/<str:code>/", views.link_page, name="link"),
    path("b/<str:code>/qr.svg", views.link_qr, name="link_qr"),
    path("b/<str:code>/betaling/<int:pk>/", views.link_return, name="link_return"),
    path("payments/webhooks/mollie/", webhooks.mollie_webhook, name="mollie_webhook"),
]
