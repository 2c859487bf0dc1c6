from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation and audit"

    def ready(self) -> None:
        from moderation import frame_handlers  # handlers import models: not before the apps are ready

        frame_handlers.handlers.register()

        from moderation.actions import MUTE_LAPSE  # imports models: not before the apps are ready
        from rooms.extensions import register_duty

        register_duty(MUTE_LAPSE)
