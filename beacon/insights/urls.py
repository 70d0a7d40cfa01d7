from django.urls import path

from beacon.insights import views

app_name = "insights"

urlpatterns = [
    path("c/<slug:slug>/insights/", views.index, name="index"),
    path("c/<slug:slug>/insights/runs/new/", views.request_run, name="request_run"),
    path("c/<slug:slug>/insights/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("c/<slug:slug>/insights/runs/<int:pk>/map.json", views.run_geojson, name="run_geojson"),
    path("c/<slug:slug>/insights/hotspots/", views.hotspots, name="hotspots"),
    path("c/<slug:slug>/insights/near-repeat/", views.near_repeat, name="near_repeat"),
    path("c/<slug:slug>/insights/near-repeat/zones.json", views.zones_geojson, name="zones"),
    path("c/<slug:slug>/insights/forecast/", views.forecast, name="forecast"),
    path("c/<slug:slug>/insights/trends/", views.trends, name="trends"),
]
