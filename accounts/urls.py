from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.profile, name="account_profile"),
    path("plans/", views.plans, name="plans"),
    path("codes/", views.my_codes, name="my_codes"),
    path("codes/export.csv", views.my_codes_export, name="my_codes_export"),
    path("codes/import/", views.my_codes_import, name="my_codes_import"),
    path("codes/<int:code_id>/", views.my_code_edit, name="my_code_edit"),
    path("codes/<int:code_id>/star/", views.my_code_star, name="my_code_star"),
    path("codes/<int:code_id>/move/", views.my_code_move, name="my_code_move"),
    path("changes/", views.my_changes, name="my_changes"),
    path("changes/digest/", views.my_changes_digest, name="my_changes_digest"),
    path(
        "changes/unsubscribe/<str:token>/",
        views.change_digest_unsubscribe,
        name="change_digest_unsubscribe",
    ),
]
