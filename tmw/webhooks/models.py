"""Webhook endpoints, the deliveries of events to them and every attempt to send one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import TenantOwnedModel


class Event(models.TextChoices):
    """The events an endpoint can ask for."""

    STATEMENT_ISSUED = "statement.issued", "Statement issued"
    STATEMENT_PAID = "statement.paid", "Statement paid"
    STATEMENT_PAYMENT_REVERSED = "statement.payment_reversed", "Statement payment reversed"
    STATEMENT_QUERIED = "statement.queried", "Statement queried"
    OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed", "Opportunity stage changed"
    ATTRIBUTION_CREATED = "attribution.created", "Attribution created"
    RSVP_CHANGED = "rsvp.changed", "RSVP changed"
    BOOKING_CREATED = "booking.created", "Booking created"


#: The event a "send test event" button sends; no endpoint subscribes to it, every endpoint may receive it.
TEST_EVENT = "webhook.test"


class WebhookEndpoint(TenantOwnedModel):
    """An HTTPS address that TMW signs and sends events to; optionally only the events of one vendor.

    Operators' own configuration: the tenant path is the vendor it is limited to, so a vendor's scope
    sees at most the endpoints limited to it, and an endpoint for every vendor is in no vendor's scope.
    """

    url = models.CharField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types this endpoint receives.")
    vendor = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        limit_choices_to={"kind": Organisation.Kind.VENDOR},
        help_text="Only this vendor's events; empty for every vendor's.",
    )
    secret = models.CharField(max_length=128, editable=False)
    secret_set_at = models.DateTimeField()
    is_active = models.BooleanField("active", default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["url", "pk"]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def status(self) -> str:
        return "active" if self.is_active else "disabled"

    def get_status_display(self) -> str:
        return "Active" if self.is_active else "Disabled"

    @property
    def event_labels(self) -> list[str]:
        labels = dict(Event.choices)
        return [labels.get(e, e) for e in self.events]

    @property
    def secret_hint(self) -> str:
        """The end of the secret, to tell two secrets apart without showing one."""
        return f"…{self.secret[-4:]}" if self.secret else ""


class WebhookDelivery(TenantOwnedModel):
    """One event to send to one endpoint: the exact body signed, its status and when to try next."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40, db_index=True, help_text="The event's id; a resend keeps it.")
    event_type = models.CharField(max_length=40)
    body = models.TextField(help_text="The JSON body, exactly as signed and sent.")
    vendor = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resend_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | Q(next_attempt_at__isnull=True), name="webhook_delivery_due_if_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"


class WebhookAttempt(TenantOwnedModel):
    """One try at sending a delivery: when, how long, what came back."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Accepted"
        HTTP_ERROR = "http_error", "Refused by the receiver"
        NETWORK_ERROR = "network_error", "Network error"
        BLOCKED = "blocked", "Address not allowed"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    tenant_paths = ("delivery__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"

    @property
    def status(self) -> str:
        return self.outcome

    def get_status_display(self) -> str:
        return self.get_outcome_display()
