from django.apps import AppConfig

from rooms.extensions import (
    absence_hooks,
    arrival_hooks,
    departure_hooks,
    floor_released_hooks,
    register_duty,
    session_ended_hooks,
    state_contributors,
)


class FacilitatorConfig(AppConfig):
    name = "facilitator"
    verbose_name = "Facilitation"

    def ready(self) -> None:
        # What is registered here imports models: not before the apps are ready.
        from facilitator import frame_handlers
        from facilitator.actions.attendance import close_attendance, close_session_records, open_attendance
        from facilitator.actions.floor_queue import FLOOR_EXPIRY, release_absent
        from facilitator.actions.rounds import pass_floor_on
        from facilitator.state import facilitation_state
        from facilitator.stats import STATS_TICK

        frame_handlers.handlers.register()
        state_contributors.register("facilitation", facilitation_state)
        register_duty(FLOOR_EXPIRY)
        register_duty(STATS_TICK)
        arrival_hooks.register("facilitator.attendance", open_attendance)
        departure_hooks.register("facilitator.attendance", close_attendance)
        absence_hooks.register("facilitator.release_hand_and_floor", release_absent)
        session_ended_hooks.register("facilitator.close_records", close_session_records)
        floor_released_hooks.register("facilitator.pass_floor_on", pass_floor_on)
