from django.urls import path

from . import views

app_name = "gdap"
urlpatterns = [
    path("", views.gdap_list, name="list"),
    path("<int:gdap_request_id>/", views.gdap_detail, name="detail"),
    path("<int:gdap_request_id>/status/", views.gdap_status, name="status"),
]
