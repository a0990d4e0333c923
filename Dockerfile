# syntax=docker/dockerfile:1
# The commerce API image: `commerce serve` by default; the same image runs
# `commerce worker` and `commerce migrate` (docs/operations.md).

# ---- builder: wheels of the project and of every dependency -------------------------
FROM python:3.12.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
# Every dependency ships manylinux wheels for CPython 3.12 (asyncpg, argon2-cffi,
# cryptography, orjson, uvloop, ...), so no compiler is installed even here.
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY models ./models
COPY resolvers ./resolvers
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# ---- runtime: the wheels only, no compilers, not root ---------------------------------
FROM python:3.12.11-slim-bookworm AS runtime

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    ENVIRONMENT=production \
    LOG_JSON=true \
    DATA_DIR=/tmp/commerce

# A fixed numeric UID/GID, so Kubernetes can check runAsNonRoot and runAsUser: 10001.
RUN groupadd --system --gid 10001 commerce \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin commerce

# The wheels are bind-mounted from the builder, so they never become a layer here.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/commerce-*.whl

WORKDIR /srv/commerce
USER 10001:10001

EXPOSE 8000

# No curl in the slim image: the standard library asks /healthz (liveness, no database).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

ENTRYPOINT ["commerce"]
CMD ["serve"]
