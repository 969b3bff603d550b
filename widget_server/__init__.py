"""Self-hosted consent-and-contact widget backend."""

__version__ = "0.1.0"
