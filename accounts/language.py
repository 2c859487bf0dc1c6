"""Each person's language (issue 26): a member's own choice, a guest's from the join page or the browser.

A signed-in member reads every page in `Member.language`, whatever the browser
asks for: a patient on a shared family computer still sees the language they
chose. Anyone else (a guest, the sign-in page) gets the language they picked
with the language switch (Django's language cookie), else the first language
of their browser's Accept-Language that Circle speaks, else LANGUAGE_CODE.
The room's WebSocket follows the same rule for the human `message` of its
`error` frames (`language_of_scope`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_POST

Middleware = Callable[[HttpRequest], HttpResponse]


def supported(code: object) -> str | None:
    """`code` as one of settings.LANGUAGES' codes (`es-MX` -> `es`), or None."""
    if not isinstance(code, str) or not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def default_language() -> str:
    """LANGUAGE_CODE as one of the LANGUAGES (`en-us` -> `en`)."""
    return supported(settings.LANGUAGE_CODE) or settings.LANGUAGES[0][0]


def language_of_member(user: Any) -> str | None:
    """A signed-in member's chosen language; None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return supported(getattr(user, "language", None))


def language_of_request(request: HttpRequest) -> str:
    return language_of_member(getattr(request, "user", None)) or translation.get_language_from_request(request)


def language_of_scope(scope: Mapping[str, Any]) -> str:
    """The same rule for a WebSocket: the member's language, else the cookie, else Accept-Language."""
    member_language = language_of_member(scope.get("user"))
    if member_language:
        return member_language
    headers = {name.decode("latin1").lower(): value.decode("latin1") for name, value in scope.get("headers", [])}
    cookies = scope.get("cookies")
    if cookies is None:
        parsed = SimpleCookie()
        parsed.load(headers.get("cookie", ""))
        cookies = {name: morsel.value for name, morsel in parsed.items()}
    from_cookie = supported(cookies.get(settings.LANGUAGE_COOKIE_NAME))
    if from_cookie:
        return from_cookie
    for code, _quality in parse_accept_lang_header(headers.get("accept-language", "")):
        if code != "*" and (found := supported(code)):
            return found
    return default_language()


class PersonLanguageMiddleware:
    """Activates the person's language for the request (in place of Django's LocaleMiddleware,
    which knows nothing of a member's own choice). After AuthenticationMiddleware."""

    def __init__(self, get_response: Middleware) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_of_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language  # Django's own name for it (LocaleMiddleware sets the same)
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch on every page: a member's choice is saved on their account
    (so the room, reminders and the calendar follow it); everyone's goes into the cookie."""
    language = supported(request.POST.get("language")) or default_language()
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and hasattr(user, "language"):
        user.language = language
        user.save(update_fields=["language"])
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response
