from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("authorizations/<int:authorization_id>/check/", views.authorization_check_now, name="check_now"),
    path("authorizations/<int:authorization_id>/resend/", views.authorization_resend, name="resend"),
]
