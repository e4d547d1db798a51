"""The Spark Structured Streaming job: Kafka to the HDFS raw layer and to InfluxDB."""
