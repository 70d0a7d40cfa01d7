from django.urls import path, re_path

from beacon.reports import open311_views as views

app_name = "open311"

_FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    path("", views.root, name="root"),
    re_path(r"^discovery" + _FMT, views.discovery, name="discovery"),
    re_path(r"^services" + _FMT, views.service_list, name="services"),
    re_path(r"^services/(?P<code>[-\w]+)" + _FMT, views.service_definition, name="service"),
    re_path(r"^requests" + _FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<pk>[^/.]+)" + _FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/.]+)" + _FMT, views.token, name="token"),
    re_path(r"^servicerequestupdates" + _FMT, views.request_updates, name="updates"),
]
