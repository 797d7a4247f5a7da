from django.urls import path

from . import views

app_name = "contact_public"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("contact/webhooks/email/", views.email_webhook, name="email_webhook"),
]
