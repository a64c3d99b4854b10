"""Issue 11, item 1: serializers and deserializers defined in a job's ``__main__`` work with every Beam pickler.

The job (tests/jobs/main_serde_job.py) runs as a real script, as ``__main__``, in a subprocess on the DirectRunner
against the local Kinesis: with dill (Beam's default), ``--save_main_session`` and cloudpickle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("apache_beam")

pytestmark = [pytest.mark.integration, pytest.mark.beam]

JOB = Path(__file__).parent / "jobs" / "main_serde_job.py"
FORMS = ("class", "instance", "generic", "function", "path")
PREFIX = {"class": "class", "instance": "generic", "generic": "generic", "function": "function", "path": "function"}


@pytest.mark.parametrize("options", [[], ["--save_main_session"], ["--pickle_library=cloudpickle"]],
                         ids=["dill", "save_main_session", "cloudpickle"])
def test_every_serde_form_defined_in_main_runs_on_beam(kinesis: Any, new_stream: Any, tmp_path: Path,
                                                        options: list) -> None:
    stream = new_stream()
    out = tmp_path / "read"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent)] + sys.path)}
    done = subprocess.run([sys.executable, str(JOB), kinesis.endpoint, stream, str(out), *options],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    written = sorted(f"{form}-{i}" for form in FORMS for i in range(4))
    for form in FORMS:
        values = json.loads(Path(f"{out}.{form}").read_text())
        assert values == sorted(f"{PREFIX[form]}:{w}" for w in written), form
