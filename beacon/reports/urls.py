from django.urls import path

from beacon.reports import views

app_name = "reports"

urlpatterns = [
    path("c/<slug:slug>/report", views.report_page, name="report"),
    path("c/<slug:slug>/report/nearby", views.nearby, name="nearby"),
    path("c/<slug:slug>/report/geocode", views.geocode_view, name="geocode"),
    path("c/<slug:slug>/reports/", views.public_map, name="public_map"),
    path("c/<slug:slug>/reports.geojson", views.public_geojson, name="public_geojson"),
    path("c/<slug:slug>/reports/<int:pk>/", views.public_detail, name="public_detail"),
    path("c/<slug:slug>/reports/<int:pk>/support", views.support, name="support"),
    path("c/<slug:slug>/reports/<int:pk>/reply", views.my_reply, name="my_reply"),
    path("c/<slug:slug>/tip", views.tip_page, name="tip"),
    path("staff/c/<slug:slug>/reports/", views.staff_queue, name="queue"),
    path("staff/c/<slug:slug>/reports/<int:pk>/", views.triage, name="triage"),
    path("staff/c/<slug:slug>/photos/<int:pk>", views.photo, name="photo"),
]
