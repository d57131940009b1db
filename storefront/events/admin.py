from django.contrib import admin

from storefront.events.models import DeliveryAttempt, EventDelivery, EventEndpoint


@admin.register(EventEndpoint)
class EventEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "organization__company_name"]
    readonly_fields = ["organization", "created_by", "event_types", "created_at", "updated_at"]
    exclude = ["secret_sealed"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "status_code", "duration_ms", "error", "response_excerpt"]


@admin.register(EventDelivery)
class EventDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in EventDelivery._meta.fields]
    inlines = [DeliveryAttemptInline]
