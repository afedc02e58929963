from django.apps import AppConfig


class EngagementsConfig(AppConfig):
    """Phase Two desks: engagements, plans, pipelines and attribution."""

    name = "engagements"
    verbose_name = "Phase Two desks"

    def ready(self) -> None:
        from django.db.models import Exists, OuterRef

        from tmw.directory.models import register_msp_visibility

        from .models import Opportunity

        def on_pipeline(vendor_ids: tuple[int, ...], msp_ref: str):
            """A vendor sees the MSPs in its own pipeline."""
            # unscoped: shared (other tenants' rows this action needs by design)
            return Exists(Opportunity.all_objects.filter(msp_id=OuterRef(msp_ref), vendor_id__in=vendor_ids))

        register_msp_visibility(on_pipeline)
