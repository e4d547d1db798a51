# CI only: the Grafana test double as a container, for machines that cannot pull the official
# grafana image. Build context: tests/doubles (stdlib-only Python).
FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="streamlab-test-grafana" \
      org.opencontainers.image.description="TEST DOUBLE of the Grafana HTTP API, for CI only" \
      org.opencontainers.image.vendor="streamlab" \
      io.streamlab.project="streamlab"
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3 tini; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*; \
    useradd --system --uid 1500 doubles
COPY . /opt/doubles/doubles
RUN set -eux; \
    ln -s /opt/doubles/doubles/healthcheck /usr/local/bin/healthcheck
ENV PYTHONPATH=/opt/doubles PYTHONUNBUFFERED=1
USER doubles
ENTRYPOINT ["/usr/bin/tini", "--"]
