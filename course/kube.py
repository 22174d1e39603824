"""The Kubernetes client, imported for the whole course without the dynamic client's
optional client-side validation.

When `kubernetes_validate` is importable (the grader reads its schema files),
`kubernetes.dynamic` imports it, and with it jsonschema, whose format checkers compile
RFC 3987 grammars at import: 3.4 s on the CI machine (`python -X importtime`), paid by
every command and every notebook that talks to a cluster. The course validates
submissions with its own grader (`grader.schema`) and never asks the dynamic client to,
so it is hidden while the client is imported, and importable again afterwards."""

from __future__ import annotations

import sys

_hide = "kubernetes_validate" not in sys.modules
if _hide:
    sys.modules["kubernetes_validate"] = None  # type: ignore[assignment]  # makes its import fail
try:
    from kubernetes import client, config, dynamic
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
    from kubernetes.stream import stream
finally:
    if _hide:
        del sys.modules["kubernetes_validate"]

__all__ = ["ApiException", "ResourceNotFoundError", "client", "config", "dynamic", "stream"]
