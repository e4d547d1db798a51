"""The data and pipeline buckets, with the retention INFLUX_RETENTION asks for."""

from __future__ import annotations

from influxdb_client import Bucket, BucketRetentionRules, BucketsApi, Organization
from influxdb_client.rest import ApiException

from .config import InfluxConfig, describe_retention
from .report import CREATED, PRESENT, UPDATED, ProvisionError, Report

SERVICE = "influxdb"


def ensure_buckets(
    api: BucketsApi, org: Organization, config: InfluxConfig, report: Report
) -> dict[str, Bucket]:
    return {
        name: ensure_bucket(api, org, name, config.retention_s, report) for name in config.buckets
    }


def ensure_bucket(
    api: BucketsApi, org: Organization, name: str, retention_s: int, report: Report
) -> Bucket:
    item = f"bucket {name}"
    wanted = describe_retention(retention_s)
    bucket = find_bucket(api, org.id, name)
    try:
        if bucket is None:
            bucket = api.create_bucket(
                bucket_name=name, org_id=org.id, retention_rules=_rules(retention_s)
            )
            report.item(SERVICE, item, CREATED, f"retention {wanted}")
            return bucket
        have = retention_of(bucket)
        if have == retention_s:
            report.item(SERVICE, item, PRESENT, f"retention {wanted}")
            return bucket
        bucket.retention_rules = _rules(retention_s)
        bucket = api.update_bucket(bucket)
    except ApiException as error:
        raise ProvisionError(
            SERVICE, item, f"{error.status} {api_message(error)}",
            f"check that the admin token may write buckets, or set the retention by hand: "
            f"influx bucket update --name {name} --retention {wanted}",
        ) from None  # fmt: skip
    report.item(SERVICE, item, UPDATED, f"retention {describe_retention(have)} -> {wanted}")
    return bucket


def find_bucket(api: BucketsApi, org_id: str, name: str) -> Bucket | None:
    try:
        found = api.find_buckets(org_id=org_id, name=name).buckets or []
    except ApiException as error:
        if error.status == 404:  # InfluxDB answers a name filter that matches nothing so
            return None
        raise ProvisionError(
            SERVICE, f"bucket {name}", f"cannot look it up: {error.status} {api_message(error)}",
            "check that INFLUX_ADMIN_TOKEN_FILE holds the admin (operator) token",
        ) from None  # fmt: skip
    return next((b for b in found if b.name == name), None)


def retention_of(bucket: Bucket) -> int:
    """Seconds of the expire rule; 0 (infinite) without one."""
    rules = [r for r in bucket.retention_rules or [] if r.type == "expire"]
    return int(rules[0].every_seconds or 0) if rules else 0


def _rules(retention_s: int) -> list[BucketRetentionRules]:
    # everySeconds 0 is infinite; an empty list would mean "no change" in a PATCH.
    return [BucketRetentionRules(type="expire", every_seconds=retention_s)]


def api_message(error: ApiException) -> str:
    return getattr(error, "message", None) or error.reason or "error"
