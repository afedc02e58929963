from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("partner/", views.partner_home, name="partner"),
    path("partner/vendors/", views.vendor_list, name="vendors"),
    path("finance/", views.finance_home, name="finance"),
    path("portal/", views.vendor_home, name="vendor"),
    path("msp/", views.msp_home, name="msp"),
]
