"""The one idempotent provisioner: Kafka topics, HDFS folders, InfluxDB buckets and tokens,
Grafana datasource, folder and dashboards. `python -m provisioning --help`."""
