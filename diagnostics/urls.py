"""Pages of the diagnostics app."""

app_name = "diagnostics"

urlpatterns: list = []
