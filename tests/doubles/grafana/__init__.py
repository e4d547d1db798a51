"""Grafana 12 TEST DOUBLE: a small HTTP server implementing, strictly, the documented parts of
the Grafana HTTP API that StreamLab's provisioner uses (through grafana-client). It is not
Grafana.

Grafana cannot be installed on StreamLab's test machines, so this double stands in for it in
tests (in-process on 127.0.0.1) and in the CI end-to-end compose stack
(`python -m doubles.grafana --port 3000`, configured like the official image by
GF_SECURITY_ADMIN_USER and GF_SECURITY_ADMIN_PASSWORD or GF_SECURITY_ADMIN_PASSWORD__FILE).
It says so in its Server header and in /api/health ("version": "<tag>-double").

Implemented: GET /api/health; the buildInfo of GET /api/frontend/settings; /api/datasources
(list, get by uid, name or id, id by name, create, update by uid or id, delete by uid, name or
id); /api/folders (list, get, create, update, delete); POST /api/dashboards/db,
GET and DELETE /api/dashboards/uid/{uid}; GET /api/search. Basic auth as the admin user, or
service-account tokens (Bearer) given in DoubleConfig; no anonymous access.
Not implemented: everything else (404 {"message": "Not found"} names what is missing).
Tests read what was provisioned through GET /_double/dashboards,
GET /_double/datasources/{uid}/secure, GET /_double/stats, POST /_double/reset, or
GrafanaDouble.dashboards(), .dashboard(uid), .datasources(), .datasource_secrets(uid).
"""

from .config import DoubleConfig
from .server import GrafanaDouble

__all__ = ["DoubleConfig", "GrafanaDouble"]
