from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Group sessions"

    def ready(self) -> None:
        from rooms import frame_handlers  # handlers import models: not before the apps are ready

        frame_handlers.handlers.register()

        # Both import models: not before the apps are ready.
        from accounts.signals import sign_in_changed, signed_out
        from rooms.actions.sign_out import close_sockets_on_sign_out, recheck_sockets_on_change

        signed_out.connect(close_sockets_on_sign_out, dispatch_uid="rooms-close-sockets-on-sign-out")
        sign_in_changed.connect(recheck_sockets_on_change, dispatch_uid="rooms-recheck-sockets-on-change")

        # Imports models: not before the apps are ready.
        from rooms.actions.presence import DEPARTURES
        from rooms.extensions import register_duty
        from rooms.socket_guard import IDLE_DUTY, SWEEP_DUTY

        register_duty(DEPARTURES)  # presence is debounced: a departure is announced once its grace has passed
        register_duty(IDLE_DUTY)  # open sockets whose sign-in lapsed by what their worker knows: no polling
        register_duty(SWEEP_DUTY)  # the slow safety sweep of every socket's sign-in and seat
