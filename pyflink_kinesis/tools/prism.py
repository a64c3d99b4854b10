"""Beam's Prism runner for local tests: built from source for the installed Beam version, cached.

Prism is Beam's portable local runner (Go). Unlike the DirectRunner it splits restrictions
(``try_split(0.5)``), checkpoints, runs ``--streaming`` for real and cancels jobs, so it is where the
streaming behaviour of ``ReadFromKinesis`` is tested. Beam's ``PrismRunner`` would download a release
binary; :func:`prism_binary` builds it instead, once per Beam version, with
``go install github.com/apache/beam/sdks/v2/go/cmd/prism@v<version>`` (the Go module proxy) into
``<cache>/prism/v<version>/bin/prism`` (see :func:`pyflink_kinesis.local.cache_dir`).
Use it as ``--runner=PrismRunner --prism_location=<that path>``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Optional

from .local import cache_dir

PRISM_PACKAGE = "github.com/apache/beam/sdks/v2/go/cmd/prism"


class PrismError(RuntimeError):
    """Prism could not be built; the message says why and what to do."""


def beam_version() -> str:
    """The installed apache-beam version (the Prism built must speak its protocol)."""
    try:
        return metadata.version("apache-beam")
    except metadata.PackageNotFoundError:
        raise PrismError("apache-beam is not installed: pip install 'pyflink-kinesis[beam]'") from None


def prism_path(version: Optional[str] = None) -> Path:
    """Where the Prism binary of Beam ``version`` (default: the installed one) is cached."""
    return cache_dir() / "prism" / f"v{version or beam_version()}" / "bin" / "prism"


def prism_binary(version: Optional[str] = None) -> Path:
    """The Prism binary for Beam ``version``, built with ``go install`` on first use (about 90 s).

    ``$PYFLINK_KINESIS_PRISM`` may name a Prism binary to use instead.
    """
    override = os.environ.get("PYFLINK_KINESIS_PRISM")
    if override:
        return Path(override)
    version = version or beam_version()
    binary = prism_path(version)
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise PrismError("go was not found on PATH; install Go 1.21 or newer to build Beam's Prism runner")
    env = dict(os.environ, GOBIN=str(binary.parent), GOFLAGS="-modcacherw")
    binary.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([go, "install", f"{PRISM_PACKAGE}@v{version}"], env=env, capture_output=True, text=True)
    if result.returncode != 0 or not binary.is_file():
        raise PrismError(f"go install of Prism v{version} failed:\n{result.stdout}{result.stderr}")
    return binary


if __name__ == "__main__":
    print(prism_binary(*sys.argv[1:2]))
