from django.apps import AppConfig

from rooms.extensions import message_stored_hooks, register_duty


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation and audit"

    def ready(self) -> None:
        # What is registered here imports models: not before the apps are ready.
        from moderation import frame_handlers
        from moderation.actions import MUTE_LAPSE
        from moderation.crisis import raise_alert_if_at_risk

        frame_handlers.handlers.register()
        message_stored_hooks.register("moderation.crisis_scan", raise_alert_if_at_risk)
        register_duty(MUTE_LAPSE)
