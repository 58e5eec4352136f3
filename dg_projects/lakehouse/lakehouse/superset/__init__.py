"""The lakehouse's Superset content: the local server's configuration, the serving copy of the
warehouse it reads, and the dashboards as code (Superset's export YAML, one folder each)."""

from pathlib import Path

SUPERSET_DIR = Path(__file__).resolve().parent
# Read by Superset itself (SUPERSET_CONFIG_PATH) in its own virtual environment.
CONFIG_FILE = SUPERSET_DIR / "superset_config.py"
DASHBOARDS_DIR = SUPERSET_DIR / "dashboards"
