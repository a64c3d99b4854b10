"""The PyFlink DataStream API: the documented import path for :mod:`pyflink_kinesis.flink.datastream`."""

from .flink.datastream import *  # noqa: F401,F403
from .flink.datastream import __all__  # noqa: F401
