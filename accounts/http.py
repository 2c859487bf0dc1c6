"""The request type of the views behind @login_required."""

from django.http import HttpRequest

from accounts.models import Member


class SignedInRequest(HttpRequest):
    """What a @login_required view receives: its `user` is a signed-in Member, not AnonymousUser.

    For the type checker only (django-stubs' pattern for narrowing `request.user`); Django
    still passes an HttpRequest.
    """

    user: Member
