"""The control page at GET /: static HTML, JS and CSS that use only the public control API."""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("page", __name__, static_folder="static", static_url_path="/static")

# Everything from this origin: no CDN, no inline script (the page has none).
POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"


@bp.get("/")
def control_page() -> Response:
    response = bp.send_static_file("control.html")
    response.headers["Content-Security-Policy"] = POLICY
    return response
