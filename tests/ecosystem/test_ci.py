"""ci/ and .pre-commit-hooks.yaml: the GitHub action and workflow pass actionlint (with shellcheck) and
the vendored JSON Schemas of check-jsonschema, the GitLab template passes GitLab's schema and
shellcheck, every `apim-reconciler` command line in them exists in the CLI, the merge-request note
script really edits one note in place (against a stand-in of GitLab's notes API), and the pre-commit
hook installs and runs through `pre-commit try-repo`."""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ecosystem.support import (
    REPO,
    VENV_BIN,
    build_context,
    check_command_line,
    cli_commands,
    load_yaml,
)

GITHUB = REPO / "ci" / "github"
GITLAB_TEMPLATE = REPO / "ci" / "gitlab" / "apim-reconciler.gitlab-ci.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (see the test extra of pyproject.toml)")
    return found


def _tool_env() -> dict[str, str]:
    """PATH with the venv first, so that actionlint finds shellcheck."""
    return os.environ | {"PATH": f"{VENV_BIN}:{os.environ['PATH']}"}


def _reconciler_commands(script: str) -> list[list[str]]:
    """`apim-reconciler ...` command lines of a shell script (up to a redirection or pipe)."""
    found = []
    for line in script.splitlines():
        match = re.search(r"(?:^|\s)apim-reconciler\s+([^|>;&]*)", line)
        if match and not line.lstrip().startswith("#"):
            found.append(shlex.split(match.group(1)))
    return found


# ---------------------------------------------------------------------------------------------------
# GitHub


@pytest.fixture
def github_checkout(tmp_path: Path) -> Path:
    """A repository using the action as a local one (`uses: ./ci/github`), so that actionlint checks
    the workflow's `with:` against the action's inputs."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copytree(GITHUB, tmp_path / "ci" / "github")
    workflow = (GITHUB / "example-workflow.yml").read_text()
    local = re.sub(r"apim-reconciler/apim-reconciler/ci/github@\S+", "./ci/github", workflow)
    assert local != workflow
    (tmp_path / ".github" / "workflows" / "apim.yml").write_text(local)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _actionlint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("actionlint"), "-no-color"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_tool_env(),
        timeout=120,
    )


def test_actionlint_passes(github_checkout: Path) -> None:
    _tool("shellcheck")  # actionlint checks `run:` scripts with it when it is on PATH
    result = _actionlint(github_checkout)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_wrong_input(github_checkout: Path) -> None:
    workflow = github_checkout / ".github" / "workflows" / "apim.yml"
    workflow.write_text(workflow.read_text().replace("command: sync apim/", "comand: sync apim/"))
    result = _actionlint(github_checkout)
    assert result.returncode != 0
    assert 'input "comand" is not defined' in result.stdout


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (GITHUB / "action.yml", "vendor.github-actions"),
        (GITHUB / "example-workflow.yml", "vendor.github-workflows"),
        (GITLAB_TEMPLATE, "vendor.gitlab-ci"),
    ],
    ids=["action", "workflow", "gitlab"],
)
def test_ci_files_match_their_published_schemas(path: Path, schema: str) -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_scripts_pass_shellcheck(tmp_path: Path) -> None:
    """actionlint does not look into a composite action's steps: shellcheck them here."""
    action = load_yaml((GITHUB / "action.yml").read_text())
    for index, step in enumerate(action["runs"]["steps"]):
        if "run" not in step:
            continue
        script = tmp_path / f"step{index}.sh"
        # ${{ ... }} expressions are replaced by GitHub before the shell runs; stand in a word.
        script.write_text("#!/bin/bash\n" + re.sub(r"\$\{\{[^}]*\}\}", "X", step["run"]))
        result = subprocess.run([_tool("shellcheck"), str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout


def test_github_commands_exist_in_the_cli() -> None:
    commands = cli_commands()
    workflow = load_yaml((GITHUB / "example-workflow.yml").read_text())
    lines = [
        shlex.split(step["with"]["command"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "command" in step.get("with", {})
    ]
    assert {line[0] for line in lines} == {"validate", "diff", "sync"}
    for line in lines:
        assert check_command_line(line, commands) == [], line
    assert ["diff", "apim/", "--output", "markdown", "--html-report", "apim-plan.html"] in lines
    # each HTML report a command writes is uploaded, even when the command failed
    reports = {line[line.index("--html-report") + 1] for line in lines if "--html-report" in line}
    uploads = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert reports == {"apim-plan.html", "apim-sync.html"} == {step["with"]["path"] for step in uploads}
    assert all(step["if"].startswith("always()") for step in uploads)
    env = workflow.get("env", {})
    for name in env:
        if name.startswith("RECONCILER_"):
            assert all(
                name in commands[c].envs for c in ("validate", "diff", "sync") if name != "RECONCILER_OWNER"
            )
            assert name in commands["sync"].envs


def test_github_comment_is_edited_in_place() -> None:
    """The github-script step, run by node against stand-ins of `github` and `context`: the first run
    creates the comment, the second finds it by its marker and edits it (no second comment)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    workflow = load_yaml((GITHUB / "example-workflow.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["plan"]["steps"] if "github-script" in s.get("uses", "")]
    harness = """
const fs = require('fs');
const comments = [];
let calls = [];
const github = {
  paginate: async (fn, args) => comments.slice(),
  rest: { issues: {
    listComments: () => {},
    createComment: async (a) => { calls.push('create'); comments.push({ id: comments.length + 1, body: a.body, user: { type: 'Bot' } }); },
    updateComment: async (a) => { calls.push('update'); comments.find((c) => c.id === a.comment_id).body = a.body; },
  } },
};
const context = { serverUrl: 'https://github.com', runId: 1, repo: { owner: 'o', repo: 'r' },
                  payload: { pull_request: { number: 7, head: { sha: 'abc' } } } };
const step = async (github, context, require) => { SCRIPT };
(async () => {
  comments.push({ id: 99, body: 'an unrelated comment', user: { type: 'User' } });
  fs.writeFileSync(process.env.PLAN_FILE, 'Plan: 1 to create');
  await step(github, context, require);
  fs.writeFileSync(process.env.PLAN_FILE, 'Plan: 0 to create');
  await step(github, context, require);
  console.log(JSON.stringify({ calls, comments }));
})();
""".replace("SCRIPT", step["with"]["script"])
    plan_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"plan-{os.getpid()}.md"
    try:
        result = subprocess.run(
            [node, "-e", harness],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ | {"PLAN_FILE": str(plan_file), "DIFF_OUTCOME": "success"},
        )
    finally:
        plan_file.unlink(missing_ok=True)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["calls"] == ["create", "update"]
    ours = [c for c in outcome["comments"] if "apim-reconciler-plan" in c["body"]]
    assert len(ours) == 1 and "Plan: 0 to create" in ours[0]["body"]


# ---------------------------------------------------------------------------------------------------
# GitLab


def _gitlab() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(GITLAB_TEMPLATE.read_text())
    return document


def _job_script(name: str) -> str:
    jobs = _gitlab()
    job = jobs[name]
    base = jobs.get(job.get("extends", ""), {})
    return "\n".join([*base.get("before_script", []), *job["script"]])


def test_gitlab_jobs_run_real_commands() -> None:
    commands = cli_commands()
    jobs = {k: v for k, v in _gitlab().items() if k.startswith("apim-reconciler:")}
    assert set(jobs) == {"apim-reconciler:validate", "apim-reconciler:diff", "apim-reconciler:sync"}
    seen = set()
    for name in jobs:
        for line in _reconciler_commands(_job_script(name)):
            assert check_command_line(line, commands) == [] or line == ["--version"], (name, line)
            seen.add(line[0])
    assert seen >= {"validate", "diff", "sync"}
    assert "--output markdown" in _job_script("apim-reconciler:diff")


def test_gitlab_scripts_pass_shellcheck(tmp_path: Path) -> None:
    for name in ("apim-reconciler:validate", "apim-reconciler:diff", "apim-reconciler:sync"):
        script = tmp_path / "job.sh"
        script.write_text("#!/bin/bash\nset -eo pipefail\n" + _job_script(name) + "\n")
        result = subprocess.run([_tool("shellcheck"), str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}:\n{result.stdout}"


class _Notes(http.server.BaseHTTPRequestHandler):
    """GitLab's merge request notes API, as much as the note script uses (two pages of notes)."""

    notes: list[dict[str, Any]]
    log: list[str]

    def _reply(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        assert self.headers["PRIVATE-TOKEN"] == "glpat-test"
        page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
        self.log.append(f"GET page {page}")
        start = (page - 1) * 2  # two notes per page, so that paging is exercised
        more = {"X-Next-Page": str(page + 1)} if start + 2 < len(self.notes) else {"X-Next-Page": ""}
        self._reply(200, self.notes[start : start + 2], more)

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        return body

    def do_POST(self) -> None:
        self.log.append("POST")
        self.notes.append({"id": len(self.notes) + 1, "body": self._body()["body"]})
        self._reply(201, self.notes[-1])

    def do_PUT(self) -> None:
        note_id = int(self.path.rsplit("/", 1)[1])
        self.log.append(f"PUT {note_id}")
        note = next(n for n in self.notes if n["id"] == note_id)
        note["body"] = self._body()["body"]
        self._reply(200, note)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gitlab_notes() -> Iterator[tuple[str, type[_Notes]]]:
    handler = type(
        "Notes", (_Notes,), {"notes": [{"id": i, "body": f"review {i}"} for i in (1, 2, 3)], "log": []}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v4", handler
    finally:
        server.shutdown()


def test_gitlab_note_is_edited_in_place(tmp_path: Path, gitlab_notes: tuple[str, type[_Notes]]) -> None:
    """The diff job's note script, run by bash and Python as GitLab would, twice: one note, edited."""
    api, notes = gitlab_notes
    script = next(line for line in _gitlab()["apim-reconciler:diff"]["script"] if "python - <<" in line)
    env = {
        "PATH": os.environ["PATH"],
        "APIM_RECONCILER_GITLAB_TOKEN": "glpat-test",
        "CI_API_V4_URL": api,
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_COMMIT_SHA": "abc",
        "CI_JOB_URL": "https://gitlab.example.com/job/1",
    }
    for plan, code in (("Plan: 1 to create", "0"), ("Plan: 0 to create", "1")):
        (tmp_path / "plan.md").write_text(plan)
        (tmp_path / "diff-exit-code").write_text(code + "\n")
        result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert [n["id"] for n in notes.notes] == [1, 2, 3, 4]
    assert notes.log == [
        "GET page 1",
        "GET page 2",
        "POST",
        "GET page 1",
        "GET page 2",
        "PUT 4",
    ]
    body = notes.notes[-1]["body"]
    assert body.startswith("<!-- apim-reconciler-plan -->") and "Plan: 0 to create" in body
    assert "failed (exit 1)" in body


def test_gitlab_note_is_skipped_without_a_token(tmp_path: Path) -> None:
    script = next(line for line in _gitlab()["apim-reconciler:diff"]["script"] if "python - <<" in line)
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env={"PATH": os.environ["PATH"]}, capture_output=True, text=True
    )
    assert result.returncode == 0 and "not posted" in result.stdout


# ---------------------------------------------------------------------------------------------------
# pre-commit


def test_pre_commit_manifest_is_valid() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib", reason="pip install pre-commit")

    (hook,) = clientlib.load_manifest(str(HOOKS))
    assert hook["id"] == "apim-reconciler-validate"
    words = shlex.split(hook["entry"]) + list(hook["args"])
    assert words[0] == "apim-reconciler"
    assert check_command_line(words[1:], cli_commands()) == []
    assert hook["pass_filenames"] is False  # cross-file rules need the whole folder


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.timeout(600)
def test_pre_commit_try_repo_runs_the_hook(tmp_path: Path) -> None:
    """`pre-commit try-repo`: pre-commit installs this repository (as the hook's `language: python`
    does for users, from a commit) and runs the hook: samples pass, a broken manifest fails."""
    pre_commit = _tool("pre-commit")
    hook_repo = tmp_path / "hook-repo"
    build_context(REPO, hook_repo, (REPO / ".dockerignore").read_text())
    shutil.copy(HOOKS, hook_repo / ".pre-commit-hooks.yaml")
    _git(tmp_path, "init", "-q", str(hook_repo))
    _git(hook_repo, "add", "-A")
    _git(hook_repo, "commit", "-q", "-m", "hook")
    project = tmp_path / "project"
    shutil.copytree(REPO / "samples", project)
    _git(tmp_path, "init", "-q", str(project))
    _git(project, "add", "-A")
    env = os.environ | {
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
    }
    env = {k: v for k, v in env.items() if not k.startswith("RECONCILER_")}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "try-repo", str(hook_repo), "apim-reconciler-validate", "--all-files"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=540,
        )

    good = run()
    assert good.returncode == 0, good.stdout + good.stderr
    assert "apim-reconciler validate" in good.stdout and "Passed" in good.stdout
    (project / "apis" / "broken.yaml").write_text(
        (project / "apis" / "orders.yaml")
        .read_text()
        .replace("name: orders", "name: broken", 1)
        .replace("type: PROXY", "type: SOAP")
    )
    _git(project, "add", "-A")
    bad = run()
    assert bad.returncode != 0
    assert '"SOAP" is not one of' in bad.stdout


def _action_step(name: str) -> dict[str, Any]:
    action = load_yaml((GITHUB / "action.yml").read_text())
    step: dict[str, Any] = next(s for s in action["runs"]["steps"] if s.get("id") == name)
    return step


@pytest.mark.parametrize(
    ("command", "step_code", "output_code"),
    [
        ("validate samples/", 0, 0),
        ("validate no-such-folder/", 1, 1),
        ("diff repo/ --exit-code", 0, 2),  # changes pending is a result, not a failure
        ("diff repo/", 0, 0),
    ],
)
def test_action_run_step_reports_the_exit_code(
    tmp_path: Path, emulator: Any, command: str, step_code: int, output_code: int
) -> None:
    """The action's run step, executed by bash as the runner does (GITHUB_OUTPUT file, env inputs)."""
    from tests.apply.helpers import api_yaml, context_yaml, token_env

    shutil.copytree(REPO / "samples", tmp_path / "samples")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "context.yaml").write_text(context_yaml(emulator.base_url))
    (tmp_path / "repo" / "orders.yaml").write_text(api_yaml("orders"))
    outputs = tmp_path / "github-output"
    outputs.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env |= {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "COMMAND": command,
        "OUTPUT_FILE": str(tmp_path / "out.txt"),
        "GITHUB_OUTPUT": str(outputs),
        **token_env(emulator.base_url),
        "RECONCILER_SECRETS_DIR": str(tmp_path / "none"),
    }
    step = _action_step("run")
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # GitHub's `shell: bash`
    result = subprocess.run(
        [*bash, step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == step_code, result.stdout + result.stderr
    assert outputs.read_text() == f"exit-code={output_code}\n"
    assert (tmp_path / "out.txt").read_text() == result.stdout  # tee'd for a later step


@pytest.mark.parametrize("broken", [False, True], ids=["plan", "failing-diff"])
def test_gitlab_diff_job_end_to_end(
    tmp_path: Path, emulator: Any, gitlab_notes: tuple[str, type[_Notes]], broken: bool
) -> None:
    """The whole diff job script (after its pip install), in bash -eo pipefail as GitLab runs it: the
    real `diff --output markdown` against the emulator, then the note. A failing diff still posts a
    note, saying so, and fails the job."""
    from tests.apply.helpers import api_yaml, context_yaml, token_env

    api, notes = gitlab_notes
    (tmp_path / "apim").mkdir()
    (tmp_path / "apim" / "context.yaml").write_text(context_yaml(emulator.base_url))
    (tmp_path / "apim" / "orders.yaml").write_text(api_yaml("orders"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env |= {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "APIM_RECONCILER_MANIFESTS": "apim/",
        "APIM_RECONCILER_GITLAB_TOKEN": "glpat-test",
        "CI_API_V4_URL": api,
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_COMMIT_SHA": "abc",
        "CI_JOB_URL": "https://gitlab.example.com/job/1",
        "RECONCILER_SECRETS_DIR": str(tmp_path / "none"),
    }
    if not broken:
        env |= token_env(emulator.base_url)
    script = "\n".join(_gitlab()["apim-reconciler:diff"]["script"])
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode != 0) is broken, result.stdout + result.stderr
    note = notes.notes[-1]["body"]
    assert note.startswith("<!-- apim-reconciler-plan -->")
    assert ("failed (exit 1)" in note) is broken
    if not broken:
        assert "orders" in note and "1 to create" in note, note
        # the job's artifacts: the Markdown plan, and the same plan as a page
        artifacts = _gitlab()["apim-reconciler:diff"]["artifacts"]
        assert set(artifacts["paths"]) == {"plan.md", "plan.html"} and artifacts["when"] == "always"
        page = (tmp_path / "plan.html").read_text()
        assert page.startswith("<!DOCTYPE html>") and "Plan: 1 to create, 0 to update, 0 to delete" in page
