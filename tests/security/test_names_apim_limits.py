"""Names and sizes that APIM refuses are reported by `validate`, at file:line, with the limit.

Issue 14: a resource name with dots (GKO's HRID `<namespace>-<name>` keeps them, APIM's Automation
API refuses them), a 253-character name (an HRID over APIM's 256) and 4 MiB strings passed
`validate`; `sync` then applied the neighbours, pruned, and failed on that one object. Now each is an
error before any request: exit 1, APIM unchanged. The limits are those of the Automation API
(automation-open-api.yaml: `Hrid`, and `maxLength` of names, descriptions, plan and page fields) and,
as warnings, those of APIM's JDBC columns (`metadata.value nvarchar(1024)`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from reconciler.secrets.store import SourceKind, env_var_name
from tests.apply.helpers import TOKEN_ENV, api_yaml, app_yaml
from tests.hostile.corpus import Case
from tests.hostile.runner import assert_refused, sync_baseline

API = api_yaml("named")
APP = app_yaml("shopper")


def renamed(text: str, old: str, new: str) -> str:
    return text.replace(f"  name: {old}\nspec", f"  name: {new}\nspec")


CASES = [
    Case(
        "dotted-api-name",
        {"dotted.yaml": renamed(API, "named", "orders.v2")},
        "the HRID 'default-orders.v2' (<namespace>-<name>) would be refused by APIM: character 15, '.'",
        "dotted.yaml",
        4,
    ),
    Case(
        "dotted-application-name",
        {"app.yaml": renamed(APP, "shopper", "shop.web")},
        "the HRID 'default-shop.web' (<namespace>-<name>) would be refused by APIM",
        "app.yaml",
        4,
    ),
    Case(
        "name-of-253-characters",
        {"long.yaml": renamed(API, "named", "a" * 253)},
        "it is 261 characters long, over APIM's limit of 256",
        "long.yaml",
        4,
    ),
    Case(
        "description-of-4-mib",
        {"big.yaml": API.replace("description: An API", "description: " + "x" * (4 << 20))},
        "4,194,304 characters long, over the limit of 4,000",
        "big.yaml",
        9,
        flags=("--max-file-size", str(8 << 20)),
    ),
    Case(
        "explicit-hrid-with-a-dot",
        {"hrid.yaml": API.replace("spec:\n", "spec:\n  hrid: my.api\n", 1)},
        "\"my.api\" is not an HRID that APIM accepts: character 3, '.' (U+002E), is not allowed",
        "hrid.yaml",
        6,
    ),
    Case(
        "plan-key-too-short",
        {"plan.yaml": API.replace("    Free:", "    v1:")},
        "plan key 'v1' gives the HRID 'v1', which APIM would refuse: it has 2 characters",
        "plan.yaml",
        28,
    ),
    Case(
        "plan-key-with-a-slash",
        {"plan.yaml": API.replace("    Free:", "    free/tier:")},
        "character 5, '/' (U+002F), is not allowed",
        "plan.yaml",
        28,
    ),
    Case(
        "page-key-not-ascii",
        {
            "page.yaml": API
            + "  pages:\n    Café:\n      name: Café\n      type: MARKDOWN\n      content: hi\n"
        },
        "page key 'Café' gives the HRID 'Café', which APIM would refuse: character 4, 'é' (U+00E9)",
        "page.yaml",
        33,
    ),
    Case(
        "plan-name-of-65",
        {"plan.yaml": API.replace("      name: Free", "      name: " + "P" * 65)},
        "65 characters long, over the limit of 64",
        "plan.yaml",
        29,
    ),
    Case(
        "namespace-not-kubernetes",
        {"ns.yaml": API.replace("  name: named\nspec", "  name: named\n  namespace: Team_A\nspec")},
        '"Team_A" is not a Kubernetes namespace',
        "ns.yaml",
        5,
    ),
    Case(
        "label-of-65",
        {"label.yaml": API.replace('  version: "1.0"\n', '  version: "1.0"\n  labels: [' + "l" * 65 + "]\n")},
        "65 characters long, over the limit of 64",
        "label.yaml",
        11,
    ),
]


@pytest.fixture(scope="module")
def apim() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig()) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def baseline(apim: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    return sync_baseline(apim, tmp_path_factory.mktemp("baseline") / "repo")


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "emulator-token")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_name_or_size_that_apim_refuses_stops_the_sync_before_any_request(
    case: Case, apim: RunningEmulator, baseline: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = assert_refused(case, apim, baseline, tmp_path / "repo", capsys)
    assert all(len(str(e["message"])) < 600 for e in errors), "a long value was copied into a message"


def test_a_template_that_resolves_past_a_limit_is_refused_without_showing_the_value(
    apim: RunningEmulator,
    baseline: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    canary = "CANARY-" + "z" * 4_100
    monkeypatch.setenv(env_var_name(SourceKind.SECRET, "default", "texts", "long"), canary)
    template = "description: '[[ secret `texts/long` ]]'"
    case = Case(
        "resolved-too-long",
        {"t.yaml": API.replace("description: An API", template)},
        "longer than 4000 characters",
    )
    errors = assert_refused(case, apim, baseline, tmp_path / "repo", capsys)
    assert not any("CANARY" in str(e["message"]) for e in errors)


def validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]) -> tuple[int, Any]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code = main(["validate", str(tmp_path), "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_an_hrid_of_exactly_256_characters_is_accepted_and_257_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fits, over = "a" * (256 - len("default-")), "a" * (257 - len("default-"))
    code, report = validate(
        tmp_path,
        capsys,
        {
            "ctx.yaml": CONTEXT,
            "fits.yaml": renamed(API, "named", fits).replace("path: /named", "path: /fits"),
            "over.yaml": renamed(API, "named", over).replace("path: /named", "path: /over"),
        },
    )
    assert code == 1
    assert [(Path(p["file"]).name, p["line"]) for p in report["problems"]] == [("over.yaml", 4)]
    assert "it is 257 characters long" in report["problems"][0]["message"]


CONTEXT = (
    "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: apim\n"
    "spec:\n  baseUrl: http://127.0.0.1:1\n"
)
V2_API = """\
apiVersion: gravitee.io/v1alpha1
kind: ApiDefinition
metadata:
  name: legacy.v1
spec:
  contextRef:
    name: apim
  name: Legacy
  version: "1"
  description: A v2 API
  proxy:
    virtual_hosts:
      - path: /legacy
    groups:
      - name: default
        endpoints:
          - name: default
            target: https://legacy.example.com
"""


def test_a_dotted_name_is_fine_for_a_v2_api_which_has_no_hrid_in_apim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """v2 APIs go through mAPI's CRD import, keyed by ids derived from the HRID, never sent as one."""
    code, report = validate(tmp_path, capsys, {"ctx.yaml": CONTEXT, "v2.yaml": V2_API})
    assert code == 0, report["problems"]


def test_jdbc_column_sizes_are_warnings_at_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MongoDB takes a 2,000-character metadata value, APIM on JDBC refuses it: a warning, not an error."""
    metadata = (
        "  metadata:\n    - key: " + "k" * 65 + "\n      name: Owner\n      format: STRING\n"
        "      value: " + "v" * 2_000 + "\n"
    )
    api = API.replace("spec:\n", "spec:\n" + metadata, 1)
    code, report = validate(tmp_path, capsys, {"ctx.yaml": CONTEXT, "meta.yaml": api})
    assert code == 0
    found = sorted((p["line"], p["severity"], p["field"], p["message"]) for p in report["problems"])
    assert found == [
        (
            7,
            "warning",
            "spec.metadata[0].key",
            "65 characters long: APIM refuses more than 64 when its database is JDBC (column metadata.key); "
            "MongoDB takes it",
        ),
        (
            10,
            "warning",
            "spec.metadata[0].value",
            "2,000 characters long: APIM refuses more than 1,024 when its database is JDBC (column "
            "metadata.value); MongoDB takes it",
        ),
    ]


# -- every Automation API length limit of the schemas, at the limit and one past it -------------

FULL_API: dict[str, Any] = {
    "apiVersion": "gravitee.io/v1alpha1",
    "kind": "ApiV4Definition",
    "metadata": {"name": "full"},
    "spec": {
        "contextRef": {"name": "apim"},
        "name": "Full",
        "version": "1",
        "description": "d",
        "type": "PROXY",
        "tags": ["t"],
        "labels": ["l"],
        "listeners": [
            {"type": "HTTP", "paths": [{"path": "/full"}], "entrypoints": [{"type": "http-proxy"}]}
        ],
        "endpointGroups": [
            {
                "name": "g",
                "type": "http-proxy",
                "endpoints": [
                    {
                        "name": "e",
                        "type": "http-proxy",
                        "inheritConfiguration": False,
                        "configuration": {"target": "https://full.example.com"},
                    }
                ],
            }
        ],
        "flows": [
            {
                "name": "f",
                "tags": ["ft"],
                "selectors": [{"type": "HTTP", "path": "/"}, {"type": "CHANNEL", "entrypoints": ["sse"]}],
                "request": [
                    {
                        "name": "s",
                        "description": "sd",
                        "policy": "p",
                        "condition": "c",
                        "messageCondition": "m",
                    }
                ],
            }
        ],
        "plans": {
            "Free": {
                "name": "Free",
                "security": {"type": "KEY_LESS"},
                "characteristics": ["c"],
                "selectionRule": "r",
                "tags": ["pt"],
            }
        },
        "pages": {
            "Docs": {
                "name": "Docs",
                "type": "MARKDOWN",
                "configuration": {"viewer": "Redoc"},
                "source": {"type": "http-fetcher", "configuration": {}},
            }
        },
    },
}
FULL_APP: dict[str, Any] = {
    "apiVersion": "gravitee.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "full-app"},
    "spec": {
        "contextRef": {"name": "apim"},
        "name": "App",
        "description": "d",
        "domain": "example.com",
        "settings": {
            "app": {"type": "WEB", "clientId": "c"},
            "tls": {"clientCertificates": [{"name": "n", "content": "pem"}]},
        },
    },
}

Setter = Callable[[dict[str, Any], str], None]


def at(*path: str | int) -> Setter:
    def set_value(document: dict[str, Any], value: str) -> None:
        node: Any = document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return set_value


LIMITS: list[tuple[str, dict[str, Any], tuple[str | int, ...], int]] = [
    ("api name", FULL_API, ("spec", "name"), 512),
    ("api version", FULL_API, ("spec", "version"), 64),
    ("api description", FULL_API, ("spec", "description"), 4000),
    ("api tag", FULL_API, ("spec", "tags", 0), 64),
    ("api label", FULL_API, ("spec", "labels", 0), 64),
    ("flow name", FULL_API, ("spec", "flows", 0, "name"), 256),
    ("flow tag", FULL_API, ("spec", "flows", 0, "tags", 0), 32),
    ("selector path", FULL_API, ("spec", "flows", 0, "selectors", 0, "path"), 256),
    ("selector entrypoint", FULL_API, ("spec", "flows", 0, "selectors", 1, "entrypoints", 0), 32),
    ("step name", FULL_API, ("spec", "flows", 0, "request", 0, "name"), 64),
    ("step description", FULL_API, ("spec", "flows", 0, "request", 0, "description"), 256),
    ("step policy", FULL_API, ("spec", "flows", 0, "request", 0, "policy"), 64),
    ("step condition", FULL_API, ("spec", "flows", 0, "request", 0, "condition"), 1024),
    ("step message condition", FULL_API, ("spec", "flows", 0, "request", 0, "messageCondition"), 256),
    ("plan name", FULL_API, ("spec", "plans", "Free", "name"), 64),
    ("plan characteristic", FULL_API, ("spec", "plans", "Free", "characteristics", 0), 64),
    ("plan selection rule", FULL_API, ("spec", "plans", "Free", "selectionRule"), 256),
    ("plan tag", FULL_API, ("spec", "plans", "Free", "tags", 0), 64),
    ("page name", FULL_API, ("spec", "pages", "Docs", "name"), 64),
    ("page configuration value", FULL_API, ("spec", "pages", "Docs", "configuration", "viewer"), 200),
    ("page source type", FULL_API, ("spec", "pages", "Docs", "source", "type"), 64),
    ("application name", FULL_APP, ("spec", "name"), 512),
    ("application description", FULL_APP, ("spec", "description"), 4000),
    ("application domain", FULL_APP, ("spec", "domain"), 256),
    ("application client id", FULL_APP, ("spec", "settings", "app", "clientId"), 300),
    (
        "client certificate name",
        FULL_APP,
        ("spec", "settings", "tls", "clientCertificates", 0, "name"),
        255,
    ),
]


@pytest.mark.parametrize(("field", "document", "path", "limit"), LIMITS, ids=[entry[0] for entry in LIMITS])
def test_every_automation_api_length_limit(
    field: str,
    document: dict[str, Any],
    path: tuple[str | int, ...],
    limit: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "ctx.yaml").write_text(CONTEXT)
    for length, expected in (
        (limit, []),
        (limit + 1, [f"{limit + 1:,} characters long, over the limit of {limit:,}"]),
    ):
        copy = json.loads(json.dumps(document))
        at(*path)(copy, "x" * length)
        (tmp_path / "manifest.yaml").write_text(json.dumps(copy, indent=1))  # JSON is YAML
        code = main(["validate", str(tmp_path), "--output", "json"])
        report = json.loads(capsys.readouterr().out)
        assert [p["message"] for p in report["problems"]] == expected, field
        assert code == (1 if expected else 0)
        if expected:
            assert report["problems"][0]["field"] == ".".join(_dotted(path))


def _dotted(path: tuple[str | int, ...]) -> list[str]:
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out[-1] += f"[{part}]"
        else:
            out.append(part)
    return out
