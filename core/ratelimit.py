"""Rate limits per client, with django-ratelimit on the configured cache.

The client key is an HMAC of its address under the SECRET_KEY: it lives only in the cache, for one period,
and cannot be turned back into an address without the key. No address is stored anywhere.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django_ratelimit.core import is_ratelimited
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView


def client_key(group: str, request: HttpRequest) -> str:
    return salted_hmac(f"core.ratelimit.{group}", client_address(request)).hexdigest()


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the header CLIENT_ADDRESS_HEADER names (set by the proxy in front)."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        return request.headers.get(header, "")
    return request.META.get("REMOTE_ADDR", "")


class RateLimitThrottle(BaseThrottle):
    """A DRF throttle on django-ratelimit: 429 with Retry-After once ``group`` passes ``rate_setting``."""

    group = ""
    rate_setting = ""

    def allow_request(self, request: Request, view: APIView) -> bool:
        rate = getattr(settings, self.rate_setting)
        limited = is_ratelimited(
            request._request, group=self.group, key=client_key, rate=rate, method="POST", increment=True
        )
        return not limited

    def wait(self) -> float:
        """The whole period: django-ratelimit's windows are fixed, so this is the longest wait."""
        _, period = getattr(settings, self.rate_setting).split("/")
        return float(int(period[:-1] or 1) * _SECONDS[period[-1]])


_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
