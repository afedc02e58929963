from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    """Phase One: rubric, scores, ideal-partner profile, MSP target lists, thesis and decision."""

    name = "diagnostics"
    verbose_name = "Phase One diagnostics"

    def ready(self) -> None:
        from tmw.directory.models import register_msp_visibility
        from tmw.directory.views import register_msp_panel

        from .selectors import msp_on_target_list
        from .views import msp_target_lists_panel

        register_msp_visibility(msp_on_target_list)
        register_msp_panel(msp_target_lists_panel)
