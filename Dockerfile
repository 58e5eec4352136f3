# Development image of the whole workspace: the webserver, the daemon and the sandbox of the
# docker compose stack. Code locations have their own images (dg_projects/*/Dockerfile).
FROM python:3.13-slim
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY . .
RUN uv sync --frozen
ENV PATH="/app/.venv/bin:$PATH"
