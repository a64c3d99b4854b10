"""Flink SQL and the Table API: the documented import path for :mod:`pyflink_kinesis.flink.table`."""

from .flink.table import *  # noqa: F401,F403
from .flink.table import __all__  # noqa: F401
