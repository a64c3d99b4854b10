"""A PyFlink job without Kinesis, for the cluster tests: numbers from a checkpointed source, slowed by a Python map,
printed to the TaskManagers' stdout as ``seq <n>``. Its source position lives in Flink state, so a job restored from
a savepoint continues after the last number it printed."""

import sys
import time

from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.number_seq import NumberSequenceSource


def slow(n: int) -> str:
    time.sleep(0.01)  # about 100 numbers a second: the job runs until stopped, using little CPU
    return f"seq {n}"


def main(name: str) -> None:
    config = Configuration()
    config.set_string("python.fn-execution.bundle.size", "20")  # small bundles: output shows up as it comes
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.enable_checkpointing(1000)
    numbers = env.from_source(NumberSequenceSource(0, 10**12), WatermarkStrategy.no_watermarks(), "numbers")
    numbers.uid("numbers").map(slow, output_type=Types.STRING()).uid("slow").print().uid("print")
    env.execute(name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sequence")
