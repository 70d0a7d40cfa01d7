from django.urls import path

from beacon.officers import views

app_name = "officers"

urlpatterns = [
    path("c/<slug:slug>/officers/", views.officers_page, name="officers"),
    path("c/<slug:slug>/officers/at", views.officer_at, name="at"),
    path("c/<slug:slug>/officers/<int:pk>/", views.profile_page, name="profile"),
    path("c/<slug:slug>/officers/<int:pk>/photo", views.photo, name="photo"),
    path("staff/c/<slug:slug>/officers/me/", views.my_work, name="me"),
    path("staff/c/<slug:slug>/officers/workload/", views.workload_page, name="workload"),
    path("staff/c/<slug:slug>/beats/<int:pk>/", views.beat_page, name="beat"),
]
