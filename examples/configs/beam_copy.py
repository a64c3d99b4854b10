"""A Beam pipeline on the StateFun module copy_module.yaml, as the docs show: copies every record of stream
'orders' to 'orders-copy' with its partition key on the DirectRunner, stopping once it has caught up. The
module's serde functions live in copy_serde.py beside this script.

    python examples/configs/beam_copy.py [MODULE]      # default: examples/configs/copy_module.yaml
"""

import sys
from pathlib import Path

import apache_beam as beam

from beam_transforms import ReadFromKinesis, WriteToKinesis
from pyflink_kinesis import load_module


def main(path: str) -> None:
    module = load_module(path)
    with beam.Pipeline() as pipeline:
        (pipeline
         | ReadFromKinesis(module.ingresses["example/orders"], stop_when_caught_up=True)
         | WriteToKinesis(module.egresses["example/orders-copy"]))
    print("copied orders -> orders-copy", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("copy_module.yaml")))
