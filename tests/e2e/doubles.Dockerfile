# CI only: the Grafana test double as a container, for machines that cannot pull the official
# grafana image. Build context: tests/doubles (stdlib-only Python).
FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="streamlab-test-grafana" \
      org.opencontainers.image.description="TEST DOUBLE of the Grafana HTTP API, for CI only" \
      org.opencontainers.image.vendor="streamlab" \
      io.streamlab.project="streamlab"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1500 doubles
COPY . /opt/doubles/doubles
ENV PYTHONPATH=/opt/doubles PYTHONUNBUFFERED=1
USER doubles
ENTRYPOINT ["/usr/bin/tini", "--"]
