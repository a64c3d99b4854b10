"""The PyFlink integration: DataStream source and sink (:mod:`.datastream`), Flink SQL tables (:mod:`.table`),
the connector jar (:mod:`.jar`) and the functions PyFlink's Python workers run (:mod:`.functions`).

Importing these modules does not import PyFlink; calling them does.
"""
