from django.urls import path

from consult import views

app_name = "consult"

urlpatterns = [
    path("consult/new/", views.ask, name="ask"),
    path("consult/queue/", views.queue, name="queue"),
    path("consult/queue/<uuid:public_id>/claim/", views.claim, name="claim"),
    path("consult/queue/<uuid:public_id>/release/", views.release, name="release"),
    path("consult/queue/<uuid:public_id>/answer/", views.answer, name="answer"),
    # The asker's threads live with the account.
    path("account/consultations/", views.thread_list, name="thread_list"),
    path("account/consultations/<uuid:public_id>/", views.thread, name="thread"),
    path("account/consultations/<uuid:public_id>/close/", views.close, name="close"),
    path(
        "account/consultations/<uuid:public_id>/answers/<int:answer_id>/follow-up/",
        views.followup,
        name="followup",
    ),
    path(
        "account/consultations/<uuid:public_id>/answers/<int:answer_id>/rate/",
        views.rate,
        name="rate",
    ),
]
