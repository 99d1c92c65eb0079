from django.apps import AppConfig


class ConsultConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consult"
    verbose_name = "CaseConsultant"
