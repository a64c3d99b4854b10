"""The embedded local Kinesis: the documented import path for :mod:`pyflink_kinesis.tools.local`."""

from .tools.local import *  # noqa: F401,F403
from .tools.local import __all__  # noqa: F401
