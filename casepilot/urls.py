from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from casepilot.health import healthz
from codes import search_views, sitemaps
from codes.urls import alias_patterns

# Editors sign in to the admin through allauth, so its rate limits and MFA apply there too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "CasePilot editors"
admin.site.site_title = "CasePilot admin"
admin.site.index_title = "Content and accounts"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("consult.urls")),  # /consult/… and /account/consultations/…
    path("account/", include("accounts.urls")),
    path("claim-check/", include("claims.urls")),
    path("casepilot/", include("assistant.urls")),
    path("sitemap.xml", sitemaps.index, name="sitemap_index"),
    path("sitemap-<slug:section>.xml", sitemaps.section, name="sitemap_section"),
    path("healthz", healthz, name="healthz"),
    path("robots.txt", search_views.robots_txt, name="robots_txt"),
    path("careers/", include("careers.urls")),
    path("", include("codes.urls")),
    *alias_patterns,
]

handler404 = "casepilot.errors.page_not_found"
handler500 = "casepilot.errors.server_error"
handler400 = "casepilot.errors.bad_request"
handler403 = "casepilot.errors.permission_denied"
