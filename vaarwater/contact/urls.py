"""Contact endpoints under ``/contact/``: the SMS and WhatsApp providers' webhooks.

The URLs to give the providers (``PUBLIC_URL`` + path) are listed in docs/contact.md.
"""

from django.urls import path

from . import webhook_views

app_name = "contact"
urlpatterns = [
    path("webhooks/twilio/status/", webhook_views.twilio_status, name="twilio-status"),
    path("webhooks/twilio/inbound/", webhook_views.twilio_inbound, name="twilio-inbound"),
    path("webhooks/whatsapp/", webhook_views.whatsapp, name="whatsapp"),
]
