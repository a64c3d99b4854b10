"""A standalone Flink cluster from the apache-flink wheel: the documented import path for :mod:`pyflink_kinesis.tools.cluster`."""

from .tools.cluster import *  # noqa: F401,F403
from .tools.cluster import __all__  # noqa: F401
