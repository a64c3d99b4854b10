"""Runs a SQL script's statements in a streaming TableEnvironment, as a PyFlink user would:
``python examples/configs/run_sql.py copy.sql``. The last statement's job runs until it is cancelled."""

import sys
from pathlib import Path

from pyflink.table import EnvironmentSettings, TableEnvironment


def statements(script: str) -> list:
    """The script's statements: split on ';', comment lines dropped."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def main(path: str) -> None:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    result = None
    for statement in statements(Path(path).read_text()):
        result = t_env.execute_sql(statement)
    if result is not None:
        result.wait()


if __name__ == "__main__":
    main(sys.argv[1])
