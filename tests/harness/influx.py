"""The InfluxDB double set up as the provisioner leaves InfluxDB: org, data and pipeline
buckets, and a write-only token for both (what the Spark job gets)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from influxdb_client import BucketRetentionRules, InfluxDBClient, Permission, PermissionResource

from doubles.influxdb import InfluxDBDouble

ORG, DATA_BUCKET, PIPELINE_BUCKET = "streamlab", "streamlab", "pipeline"


@dataclass
class InfluxLab:
    double: InfluxDBDouble
    admin_token: str
    write_token: str

    @property
    def url(self) -> str:
        return self.double.url

    def points(self, measurement: str, bucket: str = DATA_BUCKET) -> list[dict]:
        return self.double.points(bucket, measurement)


def start_influx_lab() -> InfluxLab:
    double = InfluxDBDouble().start()
    admin = secrets.token_urlsafe(24)
    double.setup("admin", secrets.token_urlsafe(16), ORG, DATA_BUCKET, token=admin)
    with InfluxDBClient(url=double.url, token=admin, org=ORG) as client:
        org = client.organizations_api().find_organizations(org=ORG)[0]
        pipeline = client.buckets_api().create_bucket(
            bucket_name=PIPELINE_BUCKET,
            org=org,
            retention_rules=BucketRetentionRules(type="expire", every_seconds=7 * 86400),
        )
        data = client.buckets_api().find_bucket_by_name(DATA_BUCKET)
        permissions = [
            Permission(
                action="write", resource=PermissionResource(type="buckets", id=b.id, org_id=org.id)
            )
            for b in (data, pipeline)
        ]
        auth = client.authorizations_api().create_authorization(
            org_id=org.id, permissions=permissions
        )
    return InfluxLab(double, admin, auth.token)
