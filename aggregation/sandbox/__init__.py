"""A Plaid-compatible sandbox (API 2020-09-14) that the official plaid-python client can use
unchanged. See docs/plaid-sandbox.md."""

from .app import create_app
from .server import SandboxServer

__all__ = ["SandboxServer", "create_app"]
