"""Superset's configuration for the local platform (`ol-platform superset`, the tests, CI).

Superset reads this file itself (`SUPERSET_CONFIG_PATH`), in its own virtual environment on
Python 3.12; nothing of the platform is imported here. `ol_platform.superset_server` sets the
variables below: where the metadata database is (SQLite, in the data folder) and the secret key
(generated once per data folder, never in the repository). Deployed Superset is configured by
its own deployment, not by this file.
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.environ["OL_SUPERSET_METADATA_DB"]

# The platform writes through the REST API with a JWT plus the CSRF token flow
# (`/api/v1/security/csrf_token/`), as against a deployed Superset: CSRF protection stays on.
WTF_CSRF_ENABLED = True
# Plain HTTP on 127.0.0.1: no HTTPS redirect or strict content-security policy.
TALISMAN_ENABLED = False
SESSION_COOKIE_SECURE = False

# No result caching: every chart reads the current serving copy, so a dashboard shows the data
# of the last build as soon as the build finished.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# Dashboards open quickly on a laptop: no thumbnails, no welcome-page examples.
FEATURE_FLAGS = {"THUMBNAILS": False, "DASHBOARD_RBAC": False}
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 50000
