from django.urls import path

from beacon.partners import views

app_name = "partners"

urlpatterns = [
    path("c/<slug:slug>/partner/", views.portal, name="portal"),
    path(
        "c/<slug:slug>/partner/initiatives/<int:pk>/",
        views.portal_initiative,
        name="portal_initiative",
    ),
    path("c/<slug:slug>/partner/documents/<int:pk>", views.document, name="document"),
    path("staff/c/<slug:slug>/partners/", views.partner_list, name="staff_partners"),
    path("staff/c/<slug:slug>/partners/<int:pk>/", views.partner_detail, name="staff_partner"),
    path("staff/c/<slug:slug>/initiatives/new/", views.initiative_new, name="staff_initiative_new"),
    path(
        "staff/c/<slug:slug>/initiatives/<int:pk>/",
        views.initiative_detail,
        name="staff_initiative",
    ),
]
