from django.urls import path

from . import views

app_name = "checkout"
urlpatterns = [
    path("cart/", views.cart, name="cart"),
    path("cart/add/<int:product_id>/", views.cart_add, name="cart_add"),
    path("checkout/", views.checkout_start, name="start"),
    path("checkout/customer/", views.customer, name="customer"),
    path("checkout/service-details/", views.service_details, name="service_details"),
    path("checkout/service-details/check/", views.service_details_check, name="service_details_check"),
    path(
        "checkout/authorizations/<int:authorization_id>/verify/",
        views.authorization_verify,
        name="authorization_verify",
    ),
    path(
        "checkout/authorizations/<int:authorization_id>/status/",
        views.authorization_status,
        name="authorization_status",
    ),
    path(
        "checkout/authorizations/<int:authorization_id>/email/",
        views.authorization_email,
        name="authorization_email",
    ),
    path(
        "checkout/authorizations/<int:authorization_id>/sign-in/",
        views.authorization_sign_in,
        name="authorization_sign_in",
    ),
    path("checkout/authorizations/signed-in/", views.authorization_signed_in, name="authorization_signed_in"),
    path("checkout/review/", views.review, name="review"),
]
