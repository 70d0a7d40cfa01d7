from django.urls import path

from beacon.notify import views

app_name = "notify"

urlpatterns = [
    path("c/<slug:slug>/alerts/", views.alerts_page, name="alerts"),
    path("c/<slug:slug>/alerts/<int:pk>/stop", views.stop, name="stop"),
    path("c/<slug:slug>/alerts/feed.atom", views.community_feed, name="feed"),
    path("c/<slug:slug>/alerts/areas/<int:area_id>.atom", views.area_feed, name="area_feed"),
    path("alerts/unsubscribe/<str:token>", views.unsubscribe_view, name="unsubscribe"),
    path("staff/c/<slug:slug>/broadcast/", views.broadcast_page, name="broadcast"),
    path(
        "staff/c/<slug:slug>/broadcast/preview", views.broadcast_preview, name="broadcast_preview"
    ),
]
