"""One name per choice set in the OpenAPI schema (drf-spectacular's ENUM_NAME_OVERRIDES reads these)."""

from commissions.models import Currency, Statement, StatementDelivery, StatementLine, StatementQuery, StatementRun
from community.models import RSVP, Event, EventQuestion
from diagnostics.booking.models import Booking
from diagnostics.models.core import Decision, Diagnostic
from engagements.models import Activity, Attribution, DisputeOutcome, Engagement, Milestone, Opportunity
from tmw.accounts.models import Country, Organisation
from tmw.directory.models import PSATool, RMMTool, ServiceLine, Vertical
from tmw.webhooks.models import Event as WebhookEvent
from tmw.webhooks.models import WebhookAttempt, WebhookDelivery

CountryEnum = Country
CurrencyEnum = Currency
ServiceLineEnum = ServiceLine
PsaToolEnum = PSATool
RmmToolEnum = RMMTool
VerticalEnum = Vertical
OrganisationKindEnum = Organisation.Kind
DiagnosticStatusEnum = Diagnostic.Status
DeskOptionEnum = Decision.Option
EngagementStatusEnum = Engagement.Status
MilestoneStatusEnum = Milestone.Status
OpportunityStageEnum = Opportunity.Stage
ActivityKindEnum = Activity.Kind
BookingStatusEnum = Booking.Status
StatementStatusEnum = Statement.Status
StatementRunStatusEnum = StatementRun.Status
StatementLineKindEnum = StatementLine.Kind
EventKindEnum = Event.Kind
RsvpStatusEnum = RSVP.Status
DecisionOutcomeEnum = Decision.Outcome  # beside the webhook attempts' outcome
WebhookEventEnum = WebhookEvent
WebhookDeliveryStatusEnum = WebhookDelivery.Status
WebhookAttemptOutcomeEnum = WebhookAttempt.Outcome
AttributionAcknowledgementEnum = Attribution.Acknowledgement
DisputeOutcomeEnum = DisputeOutcome
EventQuestionKindEnum = EventQuestion.Kind
StatementDeliveryReasonEnum = StatementDelivery.Reason
StatementQueryReasonEnum = StatementQuery.Reason
