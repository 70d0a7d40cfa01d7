from django.contrib.auth import views as auth_views
from django.urls import path

from beacon.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.community_home, name="community"),
    path("c/<slug:slug>/areas.geojson", views.areas_geojson, name="areas_geojson"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", views.two_factor, name="two_factor"),
    path("staff/", views.dashboard, name="dashboard"),
    path("staff/c/<slug:slug>/areas/", views.area_list, name="area_list"),
    path("staff/c/<slug:slug>/areas/<int:pk>/", views.area_edit, name="area_edit"),
]
