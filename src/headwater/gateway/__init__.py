"""The ASGI application: one port, every service."""

from headwater.gateway.app import Gateway, build_gateway

__all__ = ["Gateway", "build_gateway"]
