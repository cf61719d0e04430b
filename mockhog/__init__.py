"""mockhog: an offline, stateful, contract-checked stand-in for the PostHog REST API."""

from .app import create_app
from .backend import DEFAULT_API_KEY, Backend
from .version import __version__

__all__ = ["create_app", "Backend", "DEFAULT_API_KEY", "__version__"]
