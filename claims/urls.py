from django.urls import path

from claims import views

app_name = "claims"

urlpatterns = [
    path("", views.check, name="check"),
    path("history/", views.history, name="history"),
    path("<int:pk>/", views.result, name="result"),
    path("<int:pk>/claim-check.csv", views.result_csv, name="result_csv"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
