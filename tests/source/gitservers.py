"""Real git servers on 127.0.0.1 for the source tests: git daemon, git http-backend behind Basic
auth, and Debian's sshd; plus `Upstream`, a bare repository with a work clone to commit from."""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git for the test's own bookkeeping (never the code under test)."""
    env = {**os.environ, **GIT_IDENTITY}
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


class Upstream:
    """A bare repository ``<base>/<name>.git`` (default branch ``main``) and a clone to commit from."""

    def __init__(self, base: Path, name: str = "manifests") -> None:
        self.base = base
        self.bare = base / f"{name}.git"
        self.work = base / f"{name}-work"
        git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        git("init", "--quiet", "--initial-branch=main", str(self.work))
        git("remote", "add", "origin", str(self.bare), cwd=self.work)
        self.relative = f"{name}.git"

    def commit(self, files: Mapping[str, str | None], message: str = "change", branch: str = "main") -> str:
        """Write (or, for None, delete) files, commit, push; the new commit's sha."""
        current = git("rev-parse", "--abbrev-ref", "HEAD", cwd=self.work) if self.has_commits() else None
        if current != branch:
            if branch in git("branch", "--list", branch, cwd=self.work):
                git("checkout", "--quiet", branch, cwd=self.work)
            else:
                git("checkout", "--quiet", "-b", branch, cwd=self.work)
        for name, content in files.items():
            target = self.work / name
            if content is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content)
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def has_commits(self) -> bool:
        return (
            subprocess.run(
                ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
                cwd=self.work,
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )

    def rewrite(self, files: Mapping[str, str], message: str = "rewritten") -> str:
        """Replace the branch with an amended commit and force-push it (a history rewrite)."""
        for name, content in files.items():
            (self.work / name).write_text(content)
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "--amend", "-m", message, cwd=self.work)
        git("push", "--quiet", "--force", "origin", "HEAD:refs/heads/main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def tag(self, name: str, *, annotated: bool) -> str:
        if annotated:
            git("tag", "-a", "-m", name, name, cwd=self.work)
        else:
            git("tag", name, cwd=self.work)
        git("push", "--quiet", "--force", "origin", f"refs/tags/{name}", cwd=self.work)
        return git("rev-parse", f"{name}^{{commit}}", cwd=self.work)

    def set_default_branch(self, branch: str) -> None:
        git("symbolic-ref", "HEAD", f"refs/heads/{branch}", cwd=self.bare)


# -- git daemon ---------------------------------------------------------------------------------


class GitDaemon:
    """``git daemon`` serving every repository under ``base`` on a fixed port (restartable)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, relative: str) -> str:
        return f"git://127.0.0.1:{self.port}/{relative}"

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                "--export-all",
                f"--base-path={self.base}",
                "--enable=receive-pack",
                str(self.base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._proc is not None:
            os.killpg(self._proc.pid, 9)
            self._proc.wait()
            self._proc = None


# -- git http-backend behind Basic auth ---------------------------------------------------------


@dataclass
class HttpStats:
    fetches: int = 0
    requests: int = 0
    authorizations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class HttpGitServer:
    """``git http-backend`` as CGI behind a tiny HTTP server requiring ``Basic user:token``."""

    def __init__(self, base: Path, *, username: str, token: str) -> None:
        self.base = base
        self.username = username
        self.token = token
        self.stats = HttpStats()
        #: Seconds to wait before answering each request (to observe git while it waits).
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                if server.delay:
                    time.sleep(server.delay)
                with server.stats.lock:
                    server.stats.requests += 1
                header = self.headers.get("Authorization", "")
                expected = base64.b64encode(f"{server.username}:{server.token}".encode()).decode()
                if header:
                    with server.stats.lock:
                        server.stats.authorizations.append(header)
                if header != f"Basic {expected}":
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = self._body()
                path, _, query = self.path.partition("?")
                plain = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
                if path.endswith("/git-upload-pack") and (b"command=fetch" in plain or b"want " in plain):
                    with server.stats.lock:
                        server.stats.fetches += 1
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(server.base),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": server.username,
                    "REMOTE_ADDR": "127.0.0.1",
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "GATEWAY_INTERFACE": "CGI/1.1",
                }
                result = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=30, check=False
                )
                head, _, payload = result.stdout.partition(b"\r\n\r\n")
                status = 200
                headers: list[tuple[str, str]] = []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, relative: str) -> str:
        return f"http://127.0.0.1:{self.port}/{relative}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- sshd ---------------------------------------------------------------------------------------

SSHD = Path("/usr/sbin/sshd")


def ensure_sshd() -> str | None:
    """Install Debian's openssh-server when missing and possible; the reason to skip, or None."""
    if SSHD.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "sshd is missing (/usr/sbin/sshd) and cannot be installed here (needs root and apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "openssh-server"]
    result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0 or not SSHD.exists():
        return f"installing openssh-server failed: {result.stderr.strip()[-300:]}"
    return None


@dataclass
class SshServer:
    port: int
    user: str
    known_hosts: Path
    key: Path
    passphrase_key: Path
    passphrase: str
    wrong_known_hosts: Path

    def url(self, bare: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{bare}"


def _keygen(path: Path, passphrase: str = "") -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "test", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


@contextmanager
def run_sshd(folder: Path) -> Iterator[SshServer]:
    folder.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    host_key = folder / "host_ed25519"
    other_host_key = folder / "other_host_ed25519"
    client_key = folder / "client_ed25519"
    passphrase_key = folder / "client_pass_ed25519"
    passphrase = "correct horse battery staple"
    for key in (host_key, other_host_key, client_key):
        _keygen(key)
    _keygen(passphrase_key, passphrase)
    authorized = folder / "authorized_keys"
    authorized.write_text(Path(f"{client_key}.pub").read_text() + Path(f"{passphrase_key}.pub").read_text())
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {authorized}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                f"PidFile {folder / 'sshd.pid'}",
                "LogLevel ERROR",
                "",
            ]
        )
    )

    def known_hosts_for(key: Path) -> str:
        key_type, key_data = Path(f"{key}.pub").read_text().split()[:2]
        return f"[127.0.0.1]:{port} {key_type} {key_data}\n"

    known_hosts = folder / "known_hosts"
    known_hosts.write_text(known_hosts_for(host_key))
    wrong_known_hosts = folder / "wrong_known_hosts"
    wrong_known_hosts.write_text(known_hosts_for(other_host_key))
    log = (folder / "sshd.log").open("wb")
    proc = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=log, start_new_session=True
    )
    try:
        wait_for_port(port)
        import pwd

        yield SshServer(
            port=port,
            user=pwd.getpwuid(os.geteuid()).pw_name,
            known_hosts=known_hosts,
            key=client_key,
            passphrase_key=passphrase_key,
            passphrase=passphrase,
            wrong_known_hosts=wrong_known_hosts,
        )
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
        log.close()
