from django.urls import path, re_path

from codes import search_views, views

app_name = "codes"

SYSTEM_PREFIXES = r"(?P<system>cpt|hcpcs|icd-10-cm)"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", search_views.search, name="search"),
    path("search/suggest/", search_views.suggest, name="search_suggest"),
    path("modifiers/<str:modifier>/", views.modifier_detail, name="modifier_detail"),
    path("payment/locality/", views.payment_locality, name="payment_locality"),
    re_path(rf"^{SYSTEM_PREFIXES}/$", views.system_detail, name="system_detail"),
    re_path(
        rf"^{SYSTEM_PREFIXES}/browse/(?P<slug>[-a-z0-9]+)/$",
        views.group_detail,
        name="group_detail",
    ),
    re_path(rf"^{SYSTEM_PREFIXES}/(?P<code>[^/]+)/$", views.code_detail, name="code_detail"),
]

# Matched last, after every other app's URLs: any other spelling of a code page URL.
alias_patterns = [
    re_path(r"^(?P<prefix>[^/]+)/(?P<code>[^/]+)/?$", views.code_alias, name="code_alias"),
]
