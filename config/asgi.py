"""ASGI entry point: HTTP through Django, WebSockets through the room consumer.

Run with `daphne -b 127.0.0.1 -p 8000 config.asgi:application`.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 - needs Django set up first

from rooms.frames import check_frame_handlers  # noqa: E402
from rooms.origin import OriginCheck  # noqa: E402
from rooms.outbound import OutboundLimit  # noqa: E402
from rooms.routing import websocket_urlpatterns  # noqa: E402
from rooms.socket_session import SocketAuthMiddlewareStack  # noqa: E402

check_frame_handlers()  # a client frame type no app registered a handler for stops the start-up here

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # OutboundLimit stays outermost: it needs daphne's own send (rooms/outbound.py).
        # Channels' auth stack, minus its session-saving wrapper around every frame (rooms/socket_session.py).
        # types-channels wants its own URLPattern subclass in URLRouter, which django's path() never returns.
        "websocket": OutboundLimit(OriginCheck(SocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),  # type: ignore[arg-type]
    }
)

# Everything loaded by now (Django, the apps, their modules: most of the objects a worker
# will ever hold) lives as long as the process. Frozen, it is no longer scanned by every
# full collection, which otherwise paused a worker for tens of milliseconds at a time
# (docs/performance-journal.md, "Profile findings").
gc.freeze()
