# syntax=docker/dockerfile:1
# apim-reconciler: keep Gravitee APIM in step with a git repository of GKO-compatible manifests.
#
#   docker build -t apim-reconciler .
#   docker build --build-arg PYTHON_IMAGE=mirror.example.com/library/python:3.11.14-slim-bookworm .
#   docker run --read-only --tmpfs /tmp --tmpfs /var/cache/apim-reconciler apim-reconciler validate /repo
#
# The base image is a build argument so that a mirror can be used; keep it pinned by tag (or digest),
# and the same in both stages: the virtual environment built in the first stage links to its Python.
# tests/ecosystem/test_image.py replays the pip steps of this file as a non-root user: keep pip
# invocations as `python -m pip` / `/opt/apim-reconciler/bin/python -m pip` in RUN steps of their own.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
# reconciler/schemas is a symlink to ../schemas: both are copied, so the wheel holds the schemas.
COPY schemas ./schemas
RUN python -m pip wheel --no-deps --wheel-dir /wheels .
# A virtual environment that the final stage copies whole: no pip run, no wheel left in the image.
# The import check fails the build if the schemas did not make it into the package.
RUN python -m venv /opt/apim-reconciler \
 && /opt/apim-reconciler/bin/python -m pip install --find-links /wheels /wheels/apim_reconciler-*.whl \
 && /opt/apim-reconciler/bin/python -c "from importlib.resources import files; assert files('reconciler').joinpath('schemas', 'ApiV4Definition.json').is_file(), 'schemas missing from the wheel'"

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="apim-reconciler" \
      org.opencontainers.image.description="GitOps reconciler for Gravitee API Management: converges APIM to GKO-compatible manifests in git" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/apim-reconciler/apim-reconciler" \
      org.opencontainers.image.documentation="https://github.com/apim-reconciler/apim-reconciler/blob/main/docs/ecosystem.md"
# git and ssh for git sources. Their versions follow the Debian release of the pinned base image,
# which only ships security fixes for them: pinning exact Debian versions would break every rebuild
# after a security update, so DL3008 (pin apt versions) is ignored on purpose.
# The user has a fixed uid/gid (10001) so that runAsUser, fsGroup and volume ownership can name it;
# the cache directory is created owned by it, for `docker run` without a volume.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 reconciler \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin reconciler \
 && install -d -o 10001 -g 10001 -m 0700 /var/cache/apim-reconciler
COPY --from=build /opt/apim-reconciler /opt/apim-reconciler
# Only two places are ever written: the git cache and the temporary directory. Both are volumes (or
# tmpfs / emptyDir in Kubernetes), so the root filesystem can be mounted read-only. Bytecode was
# compiled at install time; PYTHONDONTWRITEBYTECODE stops Python trying to write it at run time.
# XDG_CACHE_HOME points at the cache too, for anything that uses the XDG default.
ENV PATH=/opt/apim-reconciler/bin:$PATH \
    RECONCILER_CACHE_DIR=/var/cache/apim-reconciler \
    XDG_CACHE_HOME=/var/cache/apim-reconciler \
    TMPDIR=/tmp \
    RECONCILER_LISTEN=0.0.0.0:8080 \
    RECONCILER_LOG_FORMAT=json \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/var/cache/apim-reconciler", "/tmp"]
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
# Docker's own health check (Kubernetes ignores it and uses the probes of deploy/kubernetes).
# Python rather than curl, which the slim image lacks; it follows RECONCILER_LISTEN's port, and
# urlopen raises (exit 1) on any status other than 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('RECONCILER_LISTEN', '0.0.0.0:8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
ENTRYPOINT ["apim-reconciler"]
CMD ["run"]
