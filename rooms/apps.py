from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Group sessions"

    def ready(self) -> None:
        from rooms import frame_handlers  # handlers import models: not before the apps are ready

        frame_handlers.handlers.register()

        # Both import models: not before the apps are ready.
        from accounts.signals import signed_out
        from rooms.actions.sign_out import close_sockets_on_sign_out

        signed_out.connect(close_sockets_on_sign_out, dispatch_uid="rooms-close-sockets-on-sign-out")

        # Imports models: not before the apps are ready.
        from rooms.actions.presence import DEPARTURES
        from rooms.extensions import register_duty

        register_duty(DEPARTURES)  # presence is debounced: a departure is announced once its grace has passed
