"""URL callbacks that import their view the first time it is called or inspected.

The participant path must not pay for what only staff pages need (SciPy, Matplotlib, pandas): a
URLconf that imported those views would load them in every worker before its first participant request.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


class LazyView:
    """Stands for ``make(<the object at dotted>)``: ``make`` turns it into a view (``as_view()`` for a
    class, ``admin.site.admin_view`` for a staff page).

    Django resolves and reverses by ``__module__`` and ``__qualname__``, which need no import; anything
    else asked of it (drf-spectacular asks ``cls`` when it builds the schema) imports the real view.
    """

    def __init__(self, dotted: str, make: Callable[[Any], View] = lambda view: view) -> None:
        self.__module__, _, self.__qualname__ = dotted.rpartition(".")
        self.__name__ = self.__qualname__
        self._make = make

    @cached_property
    def view(self) -> View:
        return self._make(getattr(importlib.import_module(self.__module__), self.__qualname__))

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.view(request, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Dunders and view_class stay unanswered: asking them must not import (see lookup_str).
        if name.startswith("__") or name in {"view_class", "_make", "view"}:
            raise AttributeError(name)
        return getattr(self.view, name)
