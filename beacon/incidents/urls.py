from django.urls import path

from beacon.incidents import views

app_name = "incidents"

urlpatterns = [
    path("c/<slug:slug>/map/", views.crime_map, name="map"),
    path("c/<slug:slug>/map/data.json", views.map_data, name="map_data"),
    path("c/<slug:slug>/stats/", views.stats_page, name="stats"),
    path("c/<slug:slug>/stats/chart/<slug:name>.svg", views.chart, name="chart"),
    path("c/<slug:slug>/open-data/", views.open_data, name="open_data"),
    path("c/<slug:slug>/open-data/crime.csv", views.download_csv, name="download_csv"),
    path("c/<slug:slug>/open-data/crime.geojson", views.download_geojson, name="download_geojson"),
    path("staff/c/<slug:slug>/incidents/", views.incident_list, name="staff_list"),
    path("staff/c/<slug:slug>/incidents/points.json", views.incident_points, name="staff_points"),
    path("staff/c/<slug:slug>/incidents/<int:pk>/", views.incident_detail, name="staff_detail"),
    path("staff/c/<slug:slug>/incidents/imports/", views.import_list, name="import_list"),
    path(
        "staff/c/<slug:slug>/incidents/imports/<int:pk>/",
        views.import_detail,
        name="import_detail",
    ),
    path("staff/c/<slug:slug>/incidents/publication/", views.policy_edit, name="policy"),
]
