from django.urls import path

from careers import feeds, views

app_name = "careers"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("feed/", feeds.NewJobsFeed(), name="feed"),
    path("post/", views.job_post, name="job_post"),
    path("mine/", views.my_jobs, name="my_jobs"),
    path("saved/", views.saved_jobs, name="saved_jobs"),
    path("alerts/", views.job_alerts, name="job_alerts"),
    path("alerts/unsubscribe/<str:token>/", views.alert_unsubscribe, name="alert_unsubscribe"),
    path("review/", views.review_queue, name="review_queue"),
    path("<int:job_id>-<str:slug>/", views.job_detail, name="job_detail"),
    path("<int:job_id>/edit/", views.job_edit, name="job_edit"),
    path("<int:job_id>/renew/", views.job_renew, name="job_renew"),
    path("<int:job_id>/review/", views.job_review, name="job_review"),
    path("<int:job_id>/save/", views.job_save, name="job_save"),
]
