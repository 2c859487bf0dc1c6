from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation and audit"

    def ready(self) -> None:
        from moderation import frame_handlers  # handlers import models: not before the apps are ready

        frame_handlers.handlers.register()

        # The hooks and duties import models: not before the apps are ready.
        from moderation.actions import MUTE_LAPSE
        from moderation.crisis import raise_alert_if_at_risk
        from rooms.extensions import message_stored_hooks, register_duty

        message_stored_hooks.register("moderation.crisis_scan", raise_alert_if_at_risk)
        register_duty(MUTE_LAPSE)
