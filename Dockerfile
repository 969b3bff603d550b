# syntax=docker/dockerfile:1
# Build stage: compile wheels for the app and its dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY widget_server ./widget_server
COPY static ./static
COPY sql ./sql
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[fast]"

# Runtime stage: only the wheels, a non-root user, no build tools.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    WIDGET_HOST=0.0.0.0 WIDGET_PORT=8000 WIDGET_DATA_DIR=/var/lib/widget-server
RUN useradd --system --uid 10001 --home-dir /var/lib/widget-server --create-home widget
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER widget
WORKDIR /var/lib/widget-server
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WIDGET_PORT','8000'), timeout=2)" || exit 1
ENTRYPOINT ["widget-server"]
CMD ["serve"]
