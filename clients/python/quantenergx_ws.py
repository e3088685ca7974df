"""The first name of this client, kept importable: ``from quantenergx_ws import
QuantEnergxWebSocket, QuantEnergxError`` works as before. New code imports ``quantenergx``."""

from quantenergx import AsyncQuantEnergxWebSocket, QuantEnergxError, QuantEnergxWebSocket  # noqa: F401

__all__ = ['QuantEnergxWebSocket', 'QuantEnergxError', 'AsyncQuantEnergxWebSocket']
