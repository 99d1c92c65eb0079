from django.apps import AppConfig


class CareersConfig(AppConfig):
    name = "careers"
    verbose_name = "CareerCenter"

    def ready(self) -> None:
        from careers import signals  # noqa: F401 — connects the receivers
