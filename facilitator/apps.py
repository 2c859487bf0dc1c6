from django.apps import AppConfig


class FacilitatorConfig(AppConfig):
    name = "facilitator"
    verbose_name = "Facilitation"
