"""Spark code shared by the StreamLab job and users' jobs (streamlab.lab): a dataset's
records parsed by its spec, and DataFrames written to InfluxDB through the one write path.
Needs pyspark (the spark image, or the `spark` extra)."""
