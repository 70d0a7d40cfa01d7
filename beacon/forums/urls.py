from django.urls import path

from beacon.forums import views

app_name = "forums"

urlpatterns = [
    path("c/<slug:slug>/concerns/", views.concern_board, name="board"),
    path("c/<slug:slug>/concerns.geojson", views.concerns_geojson, name="geojson"),
    path("c/<slug:slug>/concerns/<int:pk>/", views.concern_detail, name="concern"),
    path("c/<slug:slug>/concerns/<int:pk>/support", views.support, name="support"),
    path("c/<slug:slug>/you-said-we-did/", views.you_said_we_did, name="you_said_we_did"),
    path("c/<slug:slug>/meetings/", views.meeting_list, name="meetings"),
    path("c/<slug:slug>/meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("c/<slug:slug>/actions/", views.action_tracker, name="tracker"),
    path("c/<slug:slug>/actions/<int:pk>/", views.action_detail, name="action"),
    path("staff/c/<slug:slug>/concerns/", views.staff_concerns, name="staff_concerns"),
    path("staff/c/<slug:slug>/concerns/<int:pk>/", views.staff_concern, name="staff_concern"),
    path("staff/c/<slug:slug>/meetings/", views.staff_meetings, name="staff_meetings"),
    path("staff/c/<slug:slug>/meetings/<int:pk>/", views.staff_meeting, name="staff_meeting"),
    path("staff/c/<slug:slug>/actions/<int:pk>/", views.staff_action, name="staff_action"),
]
