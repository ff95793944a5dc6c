"""Security credentials: the home of the CS02 / CS03 family (update device security
credentials, DCC access control broker key changes). No use case of this family has typed
content yet; :func:`gbcs.payloads.decode_content` shows their bytes as generic trees. A use
case added here follows the steps in :mod:`gbcs.content`, and this module's ``Command`` /
``Response`` unions are then joined to the package's."""

from __future__ import annotations

__all__: list[str] = []
