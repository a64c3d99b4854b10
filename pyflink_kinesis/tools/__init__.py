"""Local tools for development and tests: the embedded local Kinesis (:mod:`.local`), a standalone Flink
cluster from the apache-flink wheel (:mod:`.cluster`) and Beam's Prism runner (:mod:`.prism`).

Nothing in the spec, Beam or PyFlink layers imports these.
"""
