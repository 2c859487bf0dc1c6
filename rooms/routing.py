from django.urls import path

from rooms.consumers import RoomConsumer

websocket_urlpatterns = [
    # django-stubs types a route's view as a Django view: Channels' routing takes an ASGI app there.
    path("ws/sessions/<int:session_id>/", RoomConsumer.as_asgi()),  # type: ignore[arg-type]
]
