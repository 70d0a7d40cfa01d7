from django.urls import path

from beacon.surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/", views.respond, name="respond"),
    path("s/<str:token>/qr.svg", views.qr_code, name="qr"),
    path("staff/c/<slug:slug>/surveys/", views.staff_surveys, name="staff_surveys"),
    path("staff/c/<slug:slug>/surveys/<int:pk>/", views.staff_survey, name="staff_survey"),
    path("staff/c/<slug:slug>/surveys/<int:pk>/results/", views.results, name="results"),
]
