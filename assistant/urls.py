from django.urls import path

from assistant import views

app_name = "assistant"

urlpatterns = [
    path("", views.home, name="home"),
    path("ask/", views.ask, name="ask"),
    path("c/<uuid:public_id>/", views.conversation, name="conversation"),
    path("c/<uuid:public_id>/delete/", views.delete, name="delete"),
    path("q/<int:pk>/feedback/", views.feedback, name="feedback"),
]
