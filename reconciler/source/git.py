"""A git repository as a source: one cached, shallow, read-only checkout per URL and ref.

Each `GitSource.snapshot()`:

1. asks the remote which commit the ref points at (``git ls-remote``; the remote's default branch
   when no ref was given, a pinned 40-hex commit needs no question at all);
2. when that commit is already checked out, stops there: no fetch (the cheap poll), after making
   sure nobody edited the checkout (edits are reverted: the cache is ours, read-only for others);
3. otherwise fetches only that ref, ``--depth 1``, with a forced refspec (a force-push is followed,
   never merged) and checks the fetched commit out, detached.

Failures raise a `SourceError` subclass and leave the previous checkout as it was, so the caller
can go on with `GitSource.last_good`. Network failures are retried with exponential backoff first.
A cache that git cannot read (garbage HEAD, missing objects) is removed and cloned again.

Why one long module: `GitSource` is one object whose steps (ls-remote, fetch, checkout, verify) share
its cache, lock and credentials; each step is a method with its own safety notes.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from reconciler.defaults import default_cache_dir
from reconciler.source.backoff import Backoff, retry
from reconciler.source.errors import (
    CorruptCacheError,
    HostKeyVerificationError,
    RefNotFoundError,
    RepositoryNotFoundError,
    SourceAuthError,
    SourceError,
    SourceUnreachableError,
)
from reconciler.source.gitauth import AuthSession, GitAuth, auth_session
from reconciler.source.gitcmd import GitResult, GitRunner, SpawnHook
from reconciler.source.redact import Scrubber, is_scp_like, split_credentials
from reconciler.source.snapshot import Snapshot
from reconciler.source.subpath import check_sub_path, sub_folder
from reconciler.source.verify import CommitVerifier

T = TypeVar("T")

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_TARGET_REF = "refs/reconciler/target"
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
_SCHEMES = frozenset({"http", "https", "git", "file"}) | _SSH_SCHEMES
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def looks_like_git_url(spec: str) -> bool:
    """Whether ``spec`` is a URL git understands (scheme or scp-like), as opposed to a folder path."""
    if "://" in spec:
        return urlsplit(spec).scheme.lower() in _SCHEMES
    return is_scp_like(spec)


@dataclass(frozen=True, slots=True)
class RemoteTarget:
    """What the remote's ref points at right now: the ref to fetch and its commit."""

    remote_ref: str
    commit: str


class GitSource:
    """A git repository, cloned into ``cache_dir/<hash of url and ref>/`` and kept at the tracked ref."""

    def __init__(
        self,
        url: str,
        ref: str | None = None,
        path: str | None = None,
        *,
        cache_dir: Path | None = None,
        auth: GitAuth | None = None,
        timeout: float = 120.0,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        git_executable: str = "git",
        on_spawn: SpawnHook | None = None,
        clock: Callable[[], datetime] | None = None,
        verifier: CommitVerifier | None = None,
    ) -> None:
        split = split_credentials(url)
        self._url = _normalise_url(split.url)
        self._url_username = split.username
        self._url_password = split.password
        self.source_url = self._url
        self.ref = ref or None
        self.path = check_sub_path(path)
        self.auth = auth or GitAuth()
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._clock = clock or (lambda: datetime.now(UTC))
        self._runner = GitRunner(executable=git_executable, on_spawn=on_spawn)
        #: With a verifier, only a commit (or tag) signed by an allowed key is checked out.
        self.verifier = verifier
        self._ssh = _is_ssh(self._url)
        _refuse_clear_text_credentials(self._url, self.auth, has_url_password=split.password is not None)
        if self.ref is not None and (self.ref.startswith("-") or any(c in self.ref for c in " \t\n:~^?*[\\")):
            raise ValueError(f"not a valid git ref: {self.ref!r}")
        key = hashlib.sha256(f"{self._url}\n{self.ref or ''}".encode()).hexdigest()[:24]
        self.cache_dir = cache_dir or default_cache_dir()
        self.checkout_dir = self.cache_dir / key
        self._lock_file = self.cache_dir / f"{key}.lock"
        #: The last snapshot returned; a caller keeps using it when `snapshot()` raises.
        self.last_good: Snapshot | None = None
        #: How many fetches this object ran (tests and metrics: the cheap poll should keep it low).
        self.fetch_count = 0
        self._verified = False
        import structlog  # here: --cache-dir's default comes from this module, and --help logs nothing

        self._log = structlog.get_logger(__name__).bind(source=self.source_url, ref=self.ref)
        if self._ssh and not self.auth.strict_host_key_checking:
            self._log.warning("source.host_key_check_disabled", hint="any server key is accepted")
        if split.username is not None or split.password is not None:
            self._log.warning("source.credentials_in_url", hint="use a token file instead")

    # -- public ---------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The tracked ref's current commit, checked out.

        When nothing changed since the last call, that same `Snapshot` object is returned (so
        ``new is old`` means "nothing to do"). On failure a `SourceError` is raised and the checkout
        is left as it was: `last_good` is still usable.
        """
        with self._locked():
            try:
                snap = self._snapshot()
            except SourceError as error:
                self._log.warning(
                    "source.snapshot_failed",
                    commit=self.last_good.commit if self.last_good else None,
                    error=error.message,
                    error_type=type(error).__name__,
                )
                raise
        self.last_good = snap
        return snap

    # -- the steps ------------------------------------------------------------------------------

    def _snapshot(self) -> Snapshot:
        current = self._current_commit()
        target = self._with_retries("ls-remote", self._resolve_remote)
        if current is not None and current == target.commit:
            try:
                self._revert_local_edits(self.checkout_dir, current)
            except CorruptCacheError as error:
                self._log.warning(
                    "source.cache_corrupt", commit=current, error=error.message, action="re-clone"
                )
                return self._make_snapshot(self._with_retries("clone", lambda: self._clone(target)))
            self._log.debug("source.unchanged", commit=current)
            if self.last_good is not None and self.last_good.commit == current:
                return self.last_good  # verified when it was made
            # A cache left by a run without --verify-commits (or another key list) proves nothing.
            self._verify(self.checkout_dir, current)
            return self._make_snapshot(current)
        self._log.info(
            "source.fetching", commit=current, remote_commit=target.commit, remote_ref=target.remote_ref
        )
        if current is None:
            return self._make_snapshot(self._with_retries("clone", lambda: self._clone(target)))
        try:
            fetched = self._with_retries("fetch", lambda: self._fetch(self.checkout_dir, target))
            self._checkout(self.checkout_dir, fetched, previous=current)
        except SourceError as error:
            # A failure may come from a cache damaged since the last poll: fsck tells. Only then is
            # the cache replaced; a remote-side failure leaves the last good checkout alone.
            # Network, auth and not-found errors are the remote's: no fsck for those.
            damaged = isinstance(error, CorruptCacheError) or (
                type(error) is SourceError and not self._cache_is_sound()
            )
            if not damaged:
                raise
            self._log.warning("source.cache_corrupt", commit=current, error=error.message, action="re-clone")
            fetched = self._with_retries("clone", lambda: self._clone(target))
        return self._make_snapshot(fetched)

    def _current_commit(self) -> str | None:
        """The commit checked out in the cache; None when there is no cache or it is damaged.

        The first time (per process) the cache is also checked with ``git fsck``: it may have been
        damaged while we were not running. A damaged cache stays where it is (its files are still
        the last good snapshot's) until a fresh clone is complete and takes its place.
        """
        if not self.checkout_dir.exists():
            return None
        try:
            commit = self._read_head()
            if not self._verified:
                self._fsck()
        except CorruptCacheError as error:
            self._log.warning("source.cache_corrupt", commit=None, error=error.message, action="re-clone")
            return None
        self._verified = True
        return commit

    def _read_head(self) -> str:
        """HEAD's commit: the ref read in-process by GitPython, then the object checked by ``rev-parse``.

        GitPython reads ``.git/HEAD`` (and any ref it points to) without a subprocess, which tells a
        garbage HEAD from a good one; ``rev-parse`` then proves the commit object itself is there.
        """
        import git as gitpython  # here, not at the top: the CLI's start-up need not pay for GitPython

        try:
            repo = gitpython.Repo(self.checkout_dir)
            try:
                commit = gitpython.SymbolicReference.dereference_recursive(repo, "HEAD")
            finally:
                repo.close()
        except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError) as error:
            raise CorruptCacheError(f"the cache is not a git repository ({type(error).__name__})") from None
        except (ValueError, TypeError, OSError) as error:
            raise CorruptCacheError(f"the cache's HEAD cannot be read ({type(error).__name__})") from None
        if not FULL_SHA.match(commit):
            raise CorruptCacheError("the cache's HEAD is not a commit")
        result = self._local(["rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"], self.checkout_dir)
        if not result.ok or result.stdout.strip() != commit:
            raise CorruptCacheError(f"the cache's HEAD commit {commit[:12]} cannot be read")
        return commit

    def _fsck(self) -> None:
        args = ["fsck", "--connectivity-only", "--no-dangling", "--no-progress"]
        result = self._local(args, self.checkout_dir)
        if not result.ok:
            raise CorruptCacheError(f"git fsck failed: {_last_lines(result.stderr)}")

    def _cache_is_sound(self) -> bool:
        try:
            self._read_head()
            self._fsck()
        except CorruptCacheError:
            return False
        return True

    def _resolve_remote(self) -> RemoteTarget:
        if self.ref is not None and FULL_SHA.match(self.ref):
            return RemoteTarget(remote_ref=self.ref, commit=self.ref)
        if self.ref is None:
            result = self._network(["ls-remote", "--symref", "--", self._url, "HEAD"], what="git ls-remote")
            return _parse_default_branch(result.stdout, self._url)
        refs = (
            [self.ref]
            if self.ref.startswith("refs/")
            else [f"refs/heads/{self.ref}", f"refs/tags/{self.ref}"]
        )
        # The peeled "^{}" line (an annotated tag's commit) is only listed when asked for by name.
        patterns = [*refs, *(f"{r}^{{}}" for r in refs if r.startswith("refs/tags/"))]
        result = self._network(["ls-remote", "--", self._url, *patterns], what="git ls-remote")
        return _parse_ref(result.stdout, self.ref, refs, self._url)

    def _fetch(self, repo: Path, target: RemoteTarget) -> str:
        """Fetch the target into a scratch ref (forced: history rewrites are followed); its commit."""
        self.fetch_count += 1
        self._network(
            [
                "fetch",
                "--depth=1",
                "--no-tags",
                "--no-recurse-submodules",
                "--no-write-fetch-head",
                "--quiet",
                "origin",
                f"+{target.remote_ref}:{_TARGET_REF}",
            ],
            what="git fetch",
            cwd=repo,
        )
        result = self._local(["rev-parse", "--verify", "--quiet", f"{_TARGET_REF}^{{commit}}"], repo)
        fetched = result.stdout.strip()
        if not result.ok or not FULL_SHA.match(fetched):
            raise CorruptCacheError("the fetched ref cannot be read back")
        if fetched != target.commit:
            self._log.info("source.ref_moved_during_fetch", commit=fetched, listed=target.commit)
        self._verify(repo, fetched)  # before any checkout: an unverified commit's files never land
        return fetched

    def _verify(self, repo: Path, commit: str) -> None:
        if self.verifier is None:
            return
        try:
            verified = self.verifier.verify(self._runner, repo, _TARGET_REF, commit)
        except SourceError as error:
            error.source_url = self.source_url
            self._log.error("source.signature_refused", commit=commit, error=error.message)
            raise
        self._log.info("source.signature_verified", commit=commit, signer=verified.signer)

    def _clone(self, target: RemoteTarget) -> str:
        """A complete new checkout, built beside the cache and swapped in only once it is complete.

        Until the swap, the old cache (if any) is left as it was: a clone that fails halfway
        leaves nothing behind and takes nothing away.
        """
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{self.checkout_dir.name}.new-", dir=self.cache_dir))
        try:
            self._local(["init", "--quiet", str(scratch)], self.cache_dir, check=True)
            for key, value in (
                ("remote.origin.url", self._url),
                ("core.logAllRefUpdates", "false"),  # no reflog keeping every old commit alive
                ("gc.autoDetach", "false"),
                ("fetch.recurseSubmodules", "false"),
            ):
                self._local(["config", key, value], scratch, check=True)
            fetched = self._fetch(scratch, target)
            self._checkout(scratch, fetched, previous=None)
            if self.checkout_dir.exists():
                old = Path(tempfile.mkdtemp(prefix=f"{self.checkout_dir.name}.old-", dir=self.cache_dir))
                self.checkout_dir.rename(old / "checkout")
                scratch.rename(self.checkout_dir)
                shutil.rmtree(old, ignore_errors=True)
            else:
                scratch.rename(self.checkout_dir)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        self._verified = True
        return fetched

    def _checkout(self, repo: Path, commit: str, *, previous: str | None) -> None:
        """Detached checkout of ``commit``, discarding anything else in the work tree."""
        result = self._local(["checkout", "--force", "--detach", "--quiet", commit], repo)
        if result.ok:
            result = self._local(["clean", "-ffdxq"], repo)
        if not result.ok:
            raise CorruptCacheError(f"checkout of {commit[:12]} failed: {_last_lines(result.stderr)}")
        self._log.info("source.checked_out", commit=commit, previous=previous)

    def _revert_local_edits(self, repo: Path, commit: str) -> None:
        """Put the checkout back to ``commit`` if anyone changed, added or removed files in it."""
        status = self._local(
            ["status", "--porcelain=v1", "--ignored=matching", "--untracked-files=all"], repo
        )
        if status.ok and not status.stdout.strip():
            return
        changed = [line[3:] for line in status.stdout.splitlines()][:5]
        self._log.warning("source.worktree_modified", commit=commit, examples=changed, action="revert")
        self._checkout(repo, commit, previous=commit)

    def _make_snapshot(self, commit: str) -> Snapshot:
        root = self.checkout_dir
        if self.path is not None:
            root = sub_folder(
                self.checkout_dir, self.path, where=f"commit {commit[:12]}", source_url=self.source_url
            )
        return Snapshot(
            commit=commit,
            root=root,
            ref=self.ref,
            source_url=self.source_url,
            fetched_at=self._clock(),
            committed_at=self._commit_time(commit),
        )

    def _commit_time(self, commit: str) -> datetime | None:
        result = self._local(["show", "-s", "--format=%ct", commit], self.checkout_dir)
        text = result.stdout.strip() if result.ok else ""
        return datetime.fromtimestamp(int(text), tz=UTC) if text.isdigit() else None

    # -- running git ----------------------------------------------------------------------------

    def _with_retries(self, what: str, operation: Callable[[], T]) -> T:
        def log_retry(error: BaseException, attempt: int, delay: float) -> None:
            self._log.info(
                "source.retry",
                commit=self.last_good.commit if self.last_good else None,
                operation=what,
                attempt=attempt,
                delay_s=delay,
                error=str(error),
            )

        return retry(
            operation,
            backoff=self.backoff,
            should_retry=lambda e: isinstance(e, SourceError) and e.retryable,
            sleep=self._sleep,
            on_retry=log_retry,
        )

    def _network(self, args: list[str], *, what: str, cwd: Path | None = None) -> GitResult:
        """A command that talks to the remote: credentials in its environment only, errors classified."""
        with self._auth() as session:
            result = self._runner.run(
                args,
                timeout=self.timeout,
                cwd=cwd,
                extra_env=session.env,
                scrubber=Scrubber(session.secrets),
                what=f"{what} {self.source_url}",
            )
        if not result.ok:
            raise classify_failure(what, self.source_url, result.stderr)
        return result

    def _local(self, args: list[str], cwd: Path, *, check: bool = False) -> GitResult:
        """A command on the cache alone: no credentials in its environment."""
        result = self._runner.run(args, timeout=self.timeout, cwd=cwd, what=f"git {args[0]}")
        if check and not result.ok:
            raise SourceError(f"git {args[0]} failed in the cache: {_last_lines(result.stderr)}")
        return result

    @contextmanager
    def _auth(self) -> Iterator[AuthSession]:
        with auth_session(
            self.auth, ssh=self._ssh, url_username=self._url_username, url_password=self._url_password
        ) as session:
            yield session

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time per cache folder (two daemons sharing a cache must not interleave)."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self._lock_file, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


# -- pure helpers -------------------------------------------------------------------------------


def classify_failure(what: str, source_url: str, stderr: str) -> SourceError:
    """The typed error for a failed network git command, from its (already scrubbed) stderr."""
    detail = _last_lines(stderr)
    text = stderr.lower()
    message = f"{what} {source_url} failed: {detail}" if detail else f"{what} {source_url} failed"
    checks: tuple[tuple[type[SourceError], tuple[str, ...]], ...] = (
        (
            HostKeyVerificationError,
            (
                "host key verification failed",
                "remote host identification has changed",
                "no matching host key",
            ),
        ),
        (
            SourceAuthError,
            (
                "authentication failed",
                "permission denied",
                "could not read username",
                "could not read password",
                "terminal prompts disabled",
                "returned error: 401",
                "returned error: 403",
                "incorrect passphrase",
            ),
        ),
        (
            RepositoryNotFoundError,
            (
                "does not appear to be a git repository",
                "repository not found",
                "' not found",
                "access denied or repository not exported",
                "no such repository",
                "returned error: 404",
            ),
        ),
        (RefNotFoundError, ("couldn't find remote ref", "not our ref", "no such ref", "unknown revision")),
        (
            SourceUnreachableError,
            (
                "could not resolve host",
                "connection refused",
                "failed to connect",
                "unable to connect",
                "unable to look up",
                "connection timed out",
                "operation timed out",
                "connection reset",
                "connection closed",
                "no route to host",
                "network is unreachable",
                "the remote end hung up",
                "early eof",
                "rpc failed",
                "returned error: 5",
                "empty reply from server",
                "could not read from remote repository",
            ),
        ),
    )
    for error_type, needles in checks:
        if any(needle in text for needle in needles):
            return error_type(message, source_url=source_url)
    return SourceError(message, source_url=source_url)


def _parse_default_branch(output: str, url: str) -> RemoteTarget:
    branch: str | None = None
    commit: str | None = None
    for line in output.splitlines():
        value, _, name = line.partition("\t")
        if name != "HEAD":
            continue
        if value.startswith("ref: "):
            branch = value.removeprefix("ref: ").strip()
        elif FULL_SHA.match(value):
            commit = value
    if commit is None:
        raise RefNotFoundError(f"{url} has no default branch (its HEAD points at nothing)", source_url=url)
    return RemoteTarget(remote_ref=branch or "HEAD", commit=commit)


def _parse_ref(output: str, ref: str, candidates: list[str], url: str) -> RemoteTarget:
    found: dict[str, str] = {}
    for line in output.splitlines():
        commit, _, name = line.partition("\t")
        if FULL_SHA.match(commit):
            found[name] = commit
    for candidate in candidates:
        if candidate in found:
            # An annotated tag lists the tag object; its commit is the peeled ``^{}`` line.
            return RemoteTarget(remote_ref=candidate, commit=found.get(f"{candidate}^{{}}", found[candidate]))
    raise RefNotFoundError(f"ref {ref!r} was not found on {url}", source_url=url)


def _last_lines(stderr: str, limit: int = 400) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = "; ".join(lines[-4:])
    return text if len(text) <= limit else "..." + text[-limit:]


def _normalise_url(url: str) -> str:
    if "://" in url:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in _SCHEMES:
            raise ValueError(f"unsupported git URL scheme {scheme!r} (use https, http, ssh, git or file)")
        return url
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*::", url):
        raise ValueError("unsupported git URL scheme: remote helpers (transport::address) are not allowed")
    if is_scp_like(url):
        return url
    return str(Path(url).expanduser().resolve())


def _is_ssh(url: str) -> bool:
    if "://" in url:
        return urlsplit(url).scheme.lower() in _SSH_SCHEMES
    return is_scp_like(url)


def _refuse_clear_text_credentials(url: str, auth: GitAuth, *, has_url_password: bool) -> None:
    """Credentials over plain http would travel readable by anyone on the path; loopback excepted."""
    if "://" not in url or urlsplit(url).scheme.lower() != "http":
        return
    has_credentials = has_url_password or any(
        v is not None for v in (auth.token_file, auth.token_env, auth.password_file, auth.password_env)
    )
    host = urlsplit(url).hostname or ""
    if has_credentials and host not in _LOOPBACK_HOSTS:
        raise ValueError("refusing to send git credentials over plain http; use https")
