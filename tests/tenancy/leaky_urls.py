"""Two views for the role matrix's own test: one that declares an action and enforces it, one that does not."""

from django.http import HttpResponse
from django.urls import include, path

from tmw.accounts.permissions import allow


def _leaky(request):
    return HttpResponse("the door is open")


_leaky.access = "directory.manage"  # type: ignore[attr-defined]  # declared, but nothing checks it


@allow("directory.manage")
def _enforced(request):
    return HttpResponse("partners only")


urlpatterns = [
    path("accounts/", include("tmw.accounts.urls")),
    path("leaky/", _leaky, name="leaky"),
    path("enforced/", _enforced, name="enforced"),
]
