"""/api/v2/setup: onboarding (tenant/http_server_onboarding.go, service_onboarding.go).

GET tells whether setup is still allowed; POST creates the initial user, org, bucket and
an operator token, once: afterwards it is 422 "onboarding has already been completed".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors
from .api_buckets import check_retention
from .config import MIN_PASSWORD_LENGTH, InitSetup
from .context import Context
from .errors import ApiError
from .render import authorization_json, bucket_json, org_json, user_json
from .routing import Request, Response, Router, json_response
from .store import Onboarding, Store

HOUR_S = 3_600


@dataclass(frozen=True)
class SetupRequest:
    username: str
    password: str | None
    org: str
    bucket: str
    retention_seconds: int
    token: str | None


class SetupApi:
    def __init__(self, context: Context) -> None:
        self._store = context.store

    def register(self, router: Router) -> None:
        router.add("GET", "/api/v2/setup", self.get_setup)
        router.add("POST", "/api/v2/setup", self.post_setup)

    def get_setup(self, _: Request) -> Response:
        return json_response(200, {"allowed": self._store.onboarding_allowed()})

    def post_setup(self, request: Request) -> Response:
        body = request.json_object()
        if not self._store.onboarding_allowed():
            raise ApiError(errors.CONFLICT, "onboarding has already been completed")
        result = onboard(self._store, setup_request(body))
        return json_response(201, onboarding_json(result, self._store))


def setup_request(body: dict[str, Any]) -> SetupRequest:
    username, org, bucket = (str(body.get(key) or "") for key in ("username", "org", "bucket"))
    if not (username and org and bucket):
        raise ApiError(errors.EMPTY_VALUE, "onboard failed, missing value")
    password = body.get("password") or None
    if password is not None and len(str(password)) < MIN_PASSWORD_LENGTH:
        raise errors.invalid("passwords must be at least 8 characters long")
    seconds = body.get("retentionPeriodSeconds")
    if seconds is None:
        seconds = int(body.get("retentionPeriodHrs") or 0) * HOUR_S
    token = body.get("token") or None
    return SetupRequest(username, password, org, bucket, check_retention(seconds), token)


def setup_from_init(init: InitSetup) -> SetupRequest:
    """The DOCKER_INFLUXDB_INIT_* setup, as the official image's entrypoint runs it."""
    return SetupRequest(
        init.username,
        init.password,
        init.org,
        init.bucket,
        check_retention(init.retention_seconds),
        init.token,
    )


def onboard(store: Store, request: SetupRequest) -> Onboarding:
    return store.onboard(
        request.username,
        request.password,
        request.org,
        request.bucket,
        request.retention_seconds,
        request.token,
    )


def onboarding_json(result: Onboarding, store: Store) -> dict[str, Any]:
    return {
        "user": user_json(result.user),
        "org": org_json(result.org),
        "bucket": bucket_json(result.bucket),
        "auth": authorization_json(result.auth, store),
    }
