"""Pages of Phase One diagnostics."""
from .directory.urls import urlpatterns as directory_urlpatterns

app_name = "diagnostics"

urlpatterns: list = [
    *directory_urlpatterns,
]
