from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Group sessions"

    def ready(self) -> None:
        from rooms import frame_handlers  # handlers import models: not before the apps are ready

        frame_handlers.handlers.register()
