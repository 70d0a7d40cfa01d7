from django.urls import path

from beacon.youth import views

app_name = "youth"

urlpatterns = [
    path("staff/c/<slug:slug>/youth/", views.youth_home, name="home"),
    path("staff/c/<slug:slug>/youth/programs/<int:pk>/", views.program_detail, name="program"),
    path("staff/c/<slug:slug>/youth/mentees/<int:pk>/", views.mentee_detail, name="mentee"),
]
