"""The streamer: replays CSV files, polls HTTP APIs or generates rows into Kafka."""
