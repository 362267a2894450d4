"""Loaded by pytest (`-p tests._environment`) before Django reads its settings.

The settings refuse to start without a SECRET_KEY when DEBUG is off, which is what a test run is.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
