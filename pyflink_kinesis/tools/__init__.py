"""Local tools for development, tests and deployment, five of them: the embedded local Kinesis (:mod:`.local`), a
standalone Flink cluster from the apache-flink wheel (:mod:`.cluster`, its verbs in :mod:`.cluster_cli`), Beam's
Prism runner (:mod:`.prism`), the Amazon Managed Service for Apache Flink packager (:mod:`.msf_package`) and
Flink's SQL client on that cluster (:mod:`.sql_cli`).

Nothing in the spec, StateFun, Beam or PyFlink layers imports these.
"""
