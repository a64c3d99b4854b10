"""Native Python Beam transforms for Kinesis: ``ReadFromKinesis`` and ``WriteToKinesis``.

They take the same specs as the PyFlink integration (``pyflink_kinesis``), use
boto3, and need no Java and no expansion service. Importing this package does
not import Beam; the transforms load it on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"ReadFromKinesis": "read", "WriteToKinesis": "write"}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'beam_transforms' has no attribute '{name}'")
    try:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] == "apache_beam":
            raise ImportError(
                f"beam_transforms.{name} needs Apache Beam: pip install 'pyflink-kinesis[beam]'"
            ) from e
        raise
