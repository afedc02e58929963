"""Public channel-review booking and the partners' booking pages."""
app_name = "booking"

urlpatterns: list = []
