"""ASGI entry point of the reference chat: `daphne bench.reference.asgi:application`."""

import os

# Forced, not defaulted: the bench hands both servers one environment, and this
# process must never load Circle's settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.reference.settings"

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from bench.reference.consumers import ChatConsumer  # noqa: E402

# django-stubs types a route's view as a Django view, and types-channels wants its own URLPattern
# subclass, which re_path() never returns: both stubs are narrower than Channels' documented routing.
websocket_urlpatterns = [re_path(r"ws/chat/(?P<room_name>\w+)/$", ChatConsumer.as_asgi())]  # type: ignore[arg-type]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),  # type: ignore[arg-type]
    }
)
