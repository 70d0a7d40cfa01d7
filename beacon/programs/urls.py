from django.urls import path

from beacon.programs import staff_views, views

app_name = "programs"

urlpatterns = [
    path("c/<slug:slug>/events/", views.event_list, name="event_list"),
    path("c/<slug:slug>/events.ics", views.community_feed, name="community_feed"),
    path("c/<slug:slug>/events/<int:pk>/", views.event_detail, name="event"),
    path("c/<slug:slug>/events/confirm/<str:token>/", views.confirm, name="confirm"),
    path(
        "c/<slug:slug>/events/registration/<str:token>/",
        views.registration_page,
        name="registration",
    ),
    path("c/<slug:slug>/events/feedback/<str:token>/", views.feedback, name="feedback"),
    path("c/<slug:slug>/events/calendar/<str:token>.ics", views.person_feed, name="person_feed"),
    path("c/<slug:slug>/programs/<int:pk>/", views.program_detail, name="program"),
    path("c/<slug:slug>/programs/<int:pk>/events.ics", views.program_feed, name="program_feed"),
    path("staff/c/<slug:slug>/programs/", staff_views.program_list, name="staff_programs"),
    path("staff/c/<slug:slug>/programs/figures/", staff_views.figures, name="staff_figures"),
    path(
        "staff/c/<slug:slug>/programs/figures.png",
        staff_views.figures_chart,
        name="staff_figures_chart",
    ),
    path("staff/c/<slug:slug>/programs/<int:pk>/", staff_views.program_edit, name="staff_program"),
    path("staff/c/<slug:slug>/events/", staff_views.event_list, name="staff_events"),
    path("staff/c/<slug:slug>/events/<int:pk>/", staff_views.event_detail, name="staff_event"),
    path(
        "staff/c/<slug:slug>/check-in/<str:token>/",
        staff_views.check_in_scan,
        name="check_in_scan",
    ),
]
