"""InfluxDB 2.7 TEST DOUBLE: a small HTTP server implementing, strictly, the documented parts
of the InfluxDB OSS 2.7 HTTP API that StreamLab uses. It is not InfluxDB.

InfluxDB binaries cannot be installed on StreamLab's test machines, so this double stands in
for InfluxDB in integration tests (in-process on 127.0.0.1) and in the end-to-end compose
stack (`python -m doubles.influxdb --port 8086`, configured like the official image by the
DOCKER_INFLUXDB_INIT_* variables). It says so in its Server header and health "commit".

Implemented: /health, /ping, /ready; /api/v2/setup; /api/v2/orgs; /api/v2/buckets;
/api/v2/authorizations; /api/v2/write (line protocol, gzip, precisions, overwrite
semantics); token authentication and permissions as the server enforces them.
Not implemented: Flux (/api/v2/query answers 501) and every other API.
Tests read what was written through the double's own API: GET /_double/points,
GET /_double/stats, POST /_double/reset, or InfluxDBDouble.points() in Python.
"""

from .config import DoubleConfig, InitSetup
from .server import InfluxDBDouble

__all__ = ["DoubleConfig", "InfluxDBDouble", "InitSetup"]
