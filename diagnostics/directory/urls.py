"""MSP directory and target-list pages (included by diagnostics.urls)."""
urlpatterns: list = []
