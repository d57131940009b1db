"""Storefront Configuration in admin: one row, section General."""

from django.contrib import admin

from common.admin import SingletonModelAdmin

from .models import StorefrontConfiguration


@admin.register(StorefrontConfiguration)
class StorefrontConfigurationAdmin(SingletonModelAdmin):
    fieldsets = [("General", {"fields": ["sub_customers_billing_address"]})]
