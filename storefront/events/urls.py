from django.urls import path

from . import views

app_name = "events"
urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("<int:endpoint_id>/", views.endpoint_detail, name="detail"),
    path("<int:endpoint_id>/test/", views.endpoint_test, name="test"),
    path("<int:endpoint_id>/toggle/", views.endpoint_toggle, name="toggle"),
    path("<int:endpoint_id>/rotate-secret/", views.endpoint_secret_rotate, name="rotate-secret"),
    path("<int:endpoint_id>/delete/", views.endpoint_delete, name="delete"),
    path("deliveries/<int:delivery_id>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
