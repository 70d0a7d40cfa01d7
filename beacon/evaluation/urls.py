from django.urls import path

from beacon.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("staff/c/<slug:slug>/evaluation/", views.dashboard, name="dashboard"),
    path(
        "staff/c/<slug:slug>/evaluation/report-<str:period>.pdf",
        views.report_pdf,
        name="report_pdf",
    ),
]
