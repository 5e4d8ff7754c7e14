# syntax=docker/dockerfile:1
# One image for the five metas services, the migrations and the seed loader.
#   docker build -t metas:dev .
#   docker run -e METAS_SERVICE=planning -p 8001:8001 metas:dev            # a service
#   docker run metas:dev migrate planning                                   # a one-shot migration
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the dependencies in a self-contained virtualenv ------------------------------------
# The project itself is installed in development mode: a .pth file in the venv points at the source
# tree under /app. Each service finds services/<svc>/alembic.ini beside its source (migrate on start,
# seed loaders), so the code runs in place from the same /app paths in the runtime stage.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md ./
COPY libs ./libs
COPY services ./services
COPY gateway ./gateway
COPY console ./console
RUN pip install --upgrade pip && pip install --editable . && python -m compileall -q /opt/venv

# --- runtime: the virtualenv, the source tree with its Alembic histories, the seed data; no root ---
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="metas" \
      org.opencontainers.image.description="Performance plans: planning, execution, scoring, budget, accounts, gateway and web console"
RUN groupadd --system --gid 10001 metas \
    && useradd --system --uid 10001 --gid metas --home-dir /app --no-create-home --shell /usr/sbin/nologin metas
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    METAS_HOME=/app \
    METAS_SERVICE=gateway
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY libs ./libs
COPY services ./services
COPY gateway ./gateway
COPY console ./console
COPY data ./data
RUN python -m compileall -q libs services gateway console \
    && mkdir -p /app/var && chown metas:metas /app/var   # embedded SQLite for a single-container try-out
COPY --chmod=0755 deploy/docker/metas.sh /usr/local/bin/metas
USER 10001:10001
EXPOSE 8000 8001 8002 8003 8004 8005 8006
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["metas", "healthcheck"]
ENTRYPOINT ["metas"]
CMD ["serve"]
