from django.urls import path

from beacon.watch import views

app_name = "watch"

urlpatterns = [
    path("c/<slug:slug>/watch/", views.groups_page, name="groups"),
    path("c/<slug:slug>/watch/new/", views.group_form, name="new"),
    path("c/<slug:slug>/watch/<slug:group>/", views.group_page, name="group"),
    path("c/<slug:slug>/watch/<slug:group>/edit/", views.group_form, name="edit"),
    path("c/<slug:slug>/watch/<slug:group>/area.geojson", views.group_area, name="area"),
]
