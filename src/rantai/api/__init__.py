"""The HTTP API: a thin FastAPI shell over a node (docs/api.md).

``create_app(node)`` builds the app; ``rantai up`` (``rantai.cli.serve``) runs it under
uvicorn beside the node's executor.
"""

from rantai.api.app import api_context, create_app

__all__ = ["api_context", "create_app"]
