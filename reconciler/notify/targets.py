"""Where notifications go, read from the flags: URLs and secrets come from files (or RECONCILER_*
variables naming files), are registered with the redactor as soon as they are read, and are never
printed: a target is named in logs by its kind and host only.

A Slack or Teams webhook URL is itself a credential (anyone holding it may post), so it is read from
a file like a token. Every URL must be https, except on loopback (tests, a sidecar receiver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from reconciler.notify.events import EVENT_KINDS, SYNC_FAILED, SYNC_SUCCEEDED
from reconciler.secrets.store import SecretFileError, read_secret_text

GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com/api/v4"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class NotifyConfigError(ValueError):
    """A notification setting that cannot work (the message names files, never their content)."""


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """The notification flags of ``run``, as given."""

    webhooks: tuple[str, ...] = ()
    webhook_secret_file: Path | None = None
    slack_webhook_file: Path | None = None
    teams_webhook_file: Path | None = None
    commit_status: str | None = None  # "github" or "gitlab"
    commit_status_api: str | None = None
    commit_status_repo: str | None = None
    commit_status_token_file: Path | None = None
    commit_status_context: str = "apim-reconciler"
    commit_status_target_url: str | None = None
    events: frozenset[str] = field(default_factory=lambda: frozenset(EVENT_KINDS))
    rate_per_minute: float = 6.0
    queue_size: int = 100


@dataclass(frozen=True, slots=True)
class Target:
    """One receiver: ``kind`` is webhook, slack, teams, github or gitlab; ``name`` is safe to log."""

    kind: str
    name: str
    url: str = field(repr=False)
    events: frozenset[str]
    secret: bytes | None = field(default=None, repr=False)
    """The HMAC key (webhook) or the API token (github, gitlab)."""
    context: str = "apim-reconciler"
    target_url: str | None = None

    def status_url(self, commit: str) -> str:
        """The commit-status endpoint of ``commit`` (``url`` is the API base and repository)."""
        return f"{self.url}/statuses/{commit}"


def read_secret(path: Path, what: str) -> str:
    """A secret file's text (the one reader, `read_secret_text`), as a configuration error."""
    try:
        return read_secret_text(path, what)
    except SecretFileError as error:
        raise NotifyConfigError(str(error)) from None


def _checked_url(url: str, flag: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyConfigError(f"{flag}: not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise NotifyConfigError(f"{flag}: plain http is accepted only on loopback; use https")
    return url.rstrip("/")


def _host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


def build_targets(config: NotifyConfig) -> tuple[Target, ...]:
    """The targets of ``config``; `NotifyConfigError` when one cannot work."""
    unknown = config.events - set(EVENT_KINDS)
    if unknown:
        raise NotifyConfigError(f"--notify-on: unknown event(s) {', '.join(sorted(unknown))}")
    targets: list[Target] = []
    if config.webhooks:
        if config.webhook_secret_file is None:
            raise NotifyConfigError(
                "--notify-webhook needs --notify-webhook-secret-file (its bodies are signed)"
            )
        key = read_secret(config.webhook_secret_file, "notification webhook secret").encode()
        for url in config.webhooks:
            checked = _checked_url(url, "--notify-webhook")
            targets.append(Target("webhook", f"webhook {_host(checked)}", checked, config.events, key))
    for kind, path in (("slack", config.slack_webhook_file), ("teams", config.teams_webhook_file)):
        if path is not None:
            url = _checked_url(
                read_secret(path, f"{kind} webhook URL"), f"--notify-{kind}-webhook-file {path}"
            )
            targets.append(Target(kind, kind, url, config.events))
    if config.commit_status is not None:
        targets.append(_status_target(config))
    return tuple(targets)


def _status_target(config: NotifyConfig) -> Target:
    kind = config.commit_status
    if kind not in ("github", "gitlab"):
        raise NotifyConfigError("--notify-commit-status: github or gitlab")
    if not config.commit_status_repo or config.commit_status_token_file is None:
        raise NotifyConfigError(
            "--notify-commit-status needs --notify-commit-status-repo and --notify-commit-status-token-file"
        )
    api = _checked_url(
        config.commit_status_api or (GITHUB_API if kind == "github" else GITLAB_API),
        "--notify-commit-status-api",
    )
    repo = config.commit_status_repo
    if kind == "github":
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise NotifyConfigError("--notify-commit-status-repo: OWNER/REPO for github")
        url = f"{api}/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
    else:  # a numeric id or the URL-encoded path of the project, as GitLab's API takes
        url = f"{api}/projects/{quote(repo, safe='')}"
    token = read_secret(config.commit_status_token_file, f"{kind} token").encode()
    # a commit status says how a commit's sync went: success or failure, nothing else
    events = config.events & {SYNC_SUCCEEDED, SYNC_FAILED}
    return Target(
        kind, f"{kind} statuses {_host(api)}", url, frozenset(events), token,
        context=config.commit_status_context, target_url=config.commit_status_target_url,
    )  # fmt: skip
