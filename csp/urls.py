from django.urls import path

from csp import views

app_name = "csp"
urlpatterns = [
    path("webhooks/partner-center/", views.partner_center_webhook, name="partner-center-webhook"),
]
