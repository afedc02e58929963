"""Pages of the engagements app."""

app_name = "engagements"

urlpatterns: list = []
