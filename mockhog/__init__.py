"""mockhog: an offline, stateful, contract-checked stand-in for the PostHog REST API."""

__version__ = "0.1.0"

from .app import create_app  # noqa: E402
from .backend import DEFAULT_API_KEY, Backend  # noqa: E402

__all__ = ["create_app", "Backend", "DEFAULT_API_KEY", "__version__"]
