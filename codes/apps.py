from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "codes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from codes import page_cache

        # Any change to code data (an editor's save, a delete, an import) retires every
        # cached page part at once.
        page_cache.connect_signals(self.get_models())
