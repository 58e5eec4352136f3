# One Dockerfile for every image of the platform, built from the workspace root.
#
#   code-location  one code location's gRPC code server, for any folder of dg_projects/:
#                    docker build --target code-location --build-arg LOCATION=canvas -t ol-canvas .
#                  Only that location and the shared library go in (never the sandbox). A location
#                  that runs dbt (it depends on dagster-dbt) gets the dbt manifest of its
#                  environment prepared at build time, so it loads without running dbt:
#                    --build-arg DAGSTER_ENV=production (node schemas depend on the dbt target).
#   platform       (the default) the whole workspace: the webserver, the daemon and the sandbox of
#                  the docker compose stack.

FROM python:3.13-slim AS base
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir uv
WORKDIR /app

FROM base AS code-location
ARG LOCATION
ARG DAGSTER_ENV=production
ENV LOCATION=${LOCATION} \
    DAGSTER_ENV=${DAGSTER_ENV} \
    OL_PLATFORM_ROOT=/app \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
COPY pyproject.toml uv.lock .python-version ./
COPY packages ./packages
COPY dg_projects ./dg_projects
RUN test -f "dg_projects/${LOCATION}/pyproject.toml" \
    || { echo "build with --build-arg LOCATION=<a folder of dg_projects/>, got '${LOCATION}'" >&2; exit 1; }
RUN uv sync --frozen --no-dev --package "${LOCATION}"
ENV PATH="/app/.venv/bin:$PATH"
# The dbt project last: a model change rebuilds only the layers from here on. `dbt parse` for this
# environment's target needs neither a warehouse nor credentials (profiles read every connection
# setting from environment variables with defaults); a target/ from a checkout is never trusted.
COPY src/ol_dbt ./src/ol_dbt
RUN rm -rf src/ol_dbt/target src/ol_dbt/logs src/ol_dbt/dbt_packages \
    && if python -c "import dagster_dbt" 2>/dev/null; then \
        python -m ol_orchestrate.lib.dbt_manifest && test -s src/ol_dbt/target/manifest.json; \
    fi
EXPOSE 4000
CMD ["sh", "-c", "exec dagster code-server start -h 0.0.0.0 -p 4000 -m \"${LOCATION}.definitions\""]

FROM base AS platform
COPY . .
RUN uv sync --frozen
ENV PATH="/app/.venv/bin:$PATH"
