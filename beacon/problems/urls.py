from django.urls import path

from beacon.problems import actions, views

app_name = "problems"

urlpatterns = [
    path("c/<slug:slug>/problems/", views.problem_list, name="list"),
    path("c/<slug:slug>/problems/board/", views.board_page, name="board"),
    path("c/<slug:slug>/problems/new/", views.problem_new, name="new"),
    path(
        "c/<slug:slug>/problems/new/hotspot/<int:run_id>/",
        views.problem_from_hotspot,
        name="new_from_hotspot",
    ),
    path("c/<slug:slug>/problems/<int:pk>/", views.problem_detail, name="detail"),
    path("c/<slug:slug>/problems/<int:pk>/edit/", views.problem_edit, name="edit"),
    path("c/<slug:slug>/problems/<int:pk>/area.geojson", views.problem_geojson, name="geojson"),
    path(
        "c/<slug:slug>/problems/<int:pk>/do/<slug:action>",
        actions.problem_action,
        name="action",
    ),
    path(
        "c/<slug:slug>/problems/<int:pk>/assessments/new/",
        views.assessment_new,
        name="assessment_new",
    ),
    path(
        "c/<slug:slug>/problems/<int:pk>/assessments/<int:aid>/",
        views.assessment_detail,
        name="assessment",
    ),
    path(
        "c/<slug:slug>/problems/<int:pk>/assessments/<int:aid>/report.pdf",
        views.assessment_pdf,
        name="assessment_pdf",
    ),
]
