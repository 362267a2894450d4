"""What django-axes may know of a client: its username attempt, never its address or user agent."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


def no_client_address(request: HttpRequest) -> None:
    """AXES_CLIENT_IP_CALLABLE: axes then stores and logs no address."""
    return None


def username_only(username: str, ip_address: str, user_agent: str, path_info: str, request: object) -> str:
    """AXES_CLIENT_STR_CALLABLE: how axes names a client in its log lines."""
    return f"{{username: {username!r}}}"


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend, for logins that come with a request (the admin's form, HTTP basic auth).

    A login without one (a script, the test client) comes from no web client, so there is nothing to lock
    out; axes itself would refuse it outright.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
