#!/usr/bin/env python3
"""Generate dbt sources and staging models from the raw tables of the lake (DuckDB targets) or
of the warehouse's information_schema (Trino targets).

    uv run python bin/dbt-create-staging-models.py generate-all \\
        --schema canvas --prefix quiz --target dev
    uv run python bin/dbt-create-staging-models.py generate --schema canvas --table quizzes
    uv run python bin/dbt-create-staging-models.py generate-all \\
        --schema ol_warehouse_production_raw \\
        --prefix raw__mitlearn__app__postgres__user --target production

A thin wrapper: the logic (and what `--schema` means per target) is in `ol_platform.dbt_staging`.
"""

from __future__ import annotations

import sys

try:
    from ol_platform.dbt_staging import main
except ImportError as error:  # a plain `python` outside the workspace's environment
    print(
        f"{sys.argv[0]}: {error}; run it in the workspace's environment: "
        "uv run python bin/dbt-create-staging-models.py ...",
        file=sys.stderr,
    )
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main())
