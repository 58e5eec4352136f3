"""The sandbox's edX.org: what edX delivers to MIT, and its catalog API.

- `.data`: MITx courses on edx.org and edge.edx.org (legacy and `course-v1:` ids, a CCX),
  learners and enrollments, deterministic from the institution;
- `.archives`: the weekly research data archives (edx-analytics-exporter's files, every quirk);
- `.bucket`: `DeliveryBucket`, the delivery bucket on an S3-compatible endpoint (moto's server)
  holding the archives and daily tracking logs;
- `.catalog`: `CatalogApi`, the Discovery endpoints (OAuth2, programs, courses, course runs).
"""

from ol_sandbox.edxorg.archives import archive_name, build_archive, olx_export
from ol_sandbox.edxorg.bucket import (
    ACCESS_KEY_ID,
    ARCHIVE_PREFIX,
    BUCKET,
    REGION,
    SECRET_ACCESS_KEY,
    TRACKING_LOG_PREFIX,
    DeliveryBucket,
    delivered_objects,
    tracking_log_key,
)
from ol_sandbox.edxorg.catalog import (
    CATALOG_CLIENT_ID,
    CATALOG_CLIENT_SECRET,
    EDXORG_PREFIX,
    CatalogApi,
)
from ol_sandbox.edxorg.data import EdxorgCourse, EdxorgData

__all__ = [
    "ACCESS_KEY_ID",
    "ARCHIVE_PREFIX",
    "BUCKET",
    "CATALOG_CLIENT_ID",
    "CATALOG_CLIENT_SECRET",
    "EDXORG_PREFIX",
    "REGION",
    "SECRET_ACCESS_KEY",
    "TRACKING_LOG_PREFIX",
    "CatalogApi",
    "DeliveryBucket",
    "EdxorgCourse",
    "EdxorgData",
    "archive_name",
    "build_archive",
    "delivered_objects",
    "olx_export",
    "tracking_log_key",
]
