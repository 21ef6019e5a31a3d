"""Hostile or broken repositories: each one must give a clear error, exit 1, and change nothing.

Every case is a repository that also holds a valid ManagementContext and a valid API (so that a
sync that ignored the error would create something) and lacks an API that an earlier sync created
(so that a sync that ignored the error would delete something).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.apply.helpers import api_yaml, app_yaml

Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    expect: str = ""
    """A substring of the error; the error must also name the file (and the line, when `line`)."""
    file: str | None = None
    line: int | None = None
    setup: Setup | None = None
    flags: tuple[str, ...] = ()
    keep_valid: bool = True


def laughs() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def symlink_to_passwd(root: Path) -> None:
    (root / "passwd.yaml").symlink_to("/etc/passwd")


def fifo(root: Path) -> None:
    os.mkfifo(root / "pipe.yaml")


def symlink_outside(root: Path) -> None:
    outside = root.parent / "outside.yaml"
    outside.write_text(api_yaml("outside"))
    (root / "outside.yaml").symlink_to(outside)


API = api_yaml("bad")
CASES = [
    Case("unclosed-flow", {"bad.yaml": "a: [1, 2\n"}, "flow sequence", "bad.yaml", 2),
    Case("tab-indent", {"bad.yaml": "a:\n\tb: 1\n"}, "tabs", "bad.yaml", 2),
    Case("wrong-indent", {"bad.yaml": "a: 1\n b: 2\n"}, "mapping values are not allowed", "bad.yaml", 2),
    Case(
        "bad-dedent",
        {"bad.yaml": API.replace("  name: bad\n  description", "  name: bad\n description")},
        "",
        "bad.yaml",
    ),
    Case(
        "duplicate-keys",
        {"bad.yaml": API.replace('  version: "1.0"\n', '  version: "1.0"\n  version: "2.0"\n')},
        "duplicate key 'version' with a different value",
        "bad.yaml",
        11,
    ),
    Case(
        "latin1",
        {"bad.yaml": API.encode() + "description: caf\xe9\n".encode("latin-1")},
        "not valid UTF-8",
        "bad.yaml",
    ),
    Case("utf16", {"bad.yaml": API.encode("utf-16")}, "UTF-16", "bad.yaml"),
    Case("nul-byte", {"bad.yaml": API.encode() + b"x: a\x00b\n"}, "special characters", "bad.yaml"),
    Case(
        "huge-file",
        {"bad.yaml": API + "# " + "x" * 70_000 + "\n"},
        "limit",
        "bad.yaml",
        flags=("--max-file-size", "65536"),
    ),
    Case(
        "deep-flow", {"bad.yaml": "a: " + "[" * 5000 + "]" * 5000 + "\n"}, "nesting deeper than", "bad.yaml"
    ),
    Case(
        "deep-block",
        {"bad.yaml": "".join(f"{' ' * i}k{i}:\n" for i in range(130)) + " " * 130 + "x: 1\n"},
        "nesting deeper than",
        "bad.yaml",
    ),
    Case("billion-laughs", {"bad.yaml": laughs()}, "billion laughs", "bad.yaml"),
    Case("recursive-alias", {"bad.yaml": "a: &a [*a]\n"}, "recursive YAML alias", "bad.yaml", 1),
    Case("undefined-alias", {"bad.yaml": "a: *nowhere\n"}, "nowhere", "bad.yaml", 1),
    Case(
        "python-tag",
        {"bad.yaml": "a: !!python/object/apply:os.system [echo hi]\n"},
        "unsupported YAML tag",
        "bad.yaml",
        1,
    ),
    Case(
        "custom-tag",
        {"bad.yaml": API.replace("type: PROXY", "type: !proxy PROXY")},
        "unsupported YAML tag",
        "bad.yaml",
        11,
    ),
    Case("not-a-mapping", {"bad.yaml": "- a\n- b\n"}, "must be a mapping", "bad.yaml", 1),
    Case(
        "no-api-version",
        {"bad.yaml": API.replace("apiVersion: gravitee.io/v1alpha1\n", "")},
        "missing apiVersion",
        "bad.yaml",
    ),
    Case("no-kind", {"bad.yaml": API.replace("kind: ApiV4Definition\n", "")}, "missing kind", "bad.yaml"),
    Case(
        "unknown-kind",
        {"bad.yaml": API.replace("kind: ApiV4Definition", "kind: ApiV5Definition")},
        "unknown kind 'ApiV5Definition'",
        "bad.yaml",
        2,
    ),
    Case(
        "unknown-field",
        {"bad.yaml": API.replace("  listeners:", "  listners:")},
        "unknown field 'listners'",
        "bad.yaml",
        12,
    ),
    Case(
        "wrong-type",
        {"bad.yaml": API.replace('  version: "1.0"', "  version: [1]")},
        "expected a string, got a list",
        "bad.yaml",
        10,
    ),
    Case(
        "bad-enum",
        {"bad.yaml": API.replace("type: KEY_LESS", "type: PASSWORD")},
        '"PASSWORD" is not one of',
        "bad.yaml",
        31,
    ),
    Case(
        "bad-name",
        {"bad.yaml": API.replace("  name: bad\nspec", "  name: Bad_Name\nspec")},
        "is not a Kubernetes name",
        "bad.yaml",
        4,
    ),
    Case(
        "null-spec",
        {
            "bad.yaml": "apiVersion: gravitee.io/v1alpha1\nkind: ApiV4Definition\nmetadata:\n  name: bad\nspec:\n"
        },
        "missing required field 'spec': it is written as null, which Kubernetes drops",
        "bad.yaml",
        5,
    ),
    Case(
        "list-items-not-a-list",
        {"bad.yaml": "apiVersion: v1\nkind: List\nitems:\n  apiVersion: gravitee.io/v1alpha1\n"},
        "the items of a List must be a list of manifests, not a mapping",
        "bad.yaml",
        3,
    ),
    Case(
        "broken-list-item",
        {
            "bad.yaml": "apiVersion: v1\nkind: List\nitems:\n"
            + "".join(
                ("  - " if i == 0 else "    ") + line + "\n"
                for i, line in enumerate(API.replace("type: KEY_LESS", "type: PASSWORD").splitlines())
            )
        },
        '"PASSWORD" is not one of',
        "bad.yaml",
        34,
    ),
    Case(
        "helm-values-not-ignored",
        {"values.yaml": "replicaCount: 1\n"},
        "no apiVersion and no kind; if this file is not a manifest (Helm values, a Chart.yaml), list it in a .sourceignore",
        "values.yaml",
        1,
    ),
    Case(
        "unreadable-sourceignore",
        {".sourceignore": b"values.yaml\n\xff\n"},
        ".sourceignore is not valid UTF-8",
        ".sourceignore",
        1,
    ),
    Case(
        "missing-required",
        {"bad.yaml": API.replace("  type: PROXY\n", "")},
        "missing required field 'type'",
        "bad.yaml",
    ),
    Case(
        "template-outside-spec",
        {
            "bad.yaml": API.replace(
                "  name: bad\nspec", "  name: bad\n  labels:\n    a: '[[ env `A` ]]'\nspec"
            )
        },
        "templates are only resolved under spec",
        "bad.yaml",
        6,
    ),
    Case(
        "malformed-template",
        {"bad.yaml": API.replace("target: https://bad.example.com", "target: '[[ secret `nokey` ]]'")},
        "needs `name/key`",
        "bad.yaml",
        26,
    ),
    Case(
        "template-path-escape",
        {
            "bad.yaml": API.replace(
                "target: https://bad.example.com", "target: '[[ secret `../../etc/passwd` ]]'"
            )
        },
        "needs `name/key`",
        "bad.yaml",
        26,
    ),
    Case(
        "template-unknown-function",
        {"bad.yaml": API.replace("target: https://bad.example.com", "target: '[[ exec `rm` ]]'")},
        "unknown template function 'exec'",
        "bad.yaml",
        26,
    ),
    Case(
        "missing-secret-template",
        {"bad.yaml": API.replace("target: https://bad.example.com", "target: '[[ secret `nothere/url` ]]'")},
        "secret default/nothere/url: not found",
        "bad.yaml",
        26,
    ),
    Case(
        "secret-ref-escape",
        {
            "ctx2.yaml": "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: other\nspec:\n  baseUrl: http://127.0.0.1:1\n  environmentId: OTHER\n  auth:\n    secretRef:\n      name: ../../../etc\n"
        },
        "secretRef",
        "ctx2.yaml",
    ),
    Case(
        "symlink-passwd",
        {},
        "symlink points outside the repository (to /etc/passwd)",
        "passwd.yaml",
        1,
        setup=symlink_to_passwd,
    ),
    Case(
        "symlink-outside",
        {},
        "symlink points outside the repository",
        "outside.yaml",
        1,
        setup=symlink_outside,
    ),
    Case("fifo", {}, "not a regular file", "pipe.yaml", 1, setup=fifo),
    Case(
        "duplicate-identity",
        {"zz-dup.yaml": api_yaml("valid", path="/other")},
        "duplicate ApiV4Definition/default/valid",
        "zz-dup.yaml",
        4,
    ),
    Case(
        "path-clash",
        {"zz-clash.yaml": api_yaml("clash", path="/valid")},
        "path /valid/ is already used",
        "zz-clash.yaml",
        15,
    ),
    Case(
        "hrid-collision",
        {
            "a-b.yaml": api_yaml("a-b"),
            "zz-b.yaml": api_yaml("b")
            .replace("  name: b\nspec", "  name: b\n  namespace: default-a\nspec")
            .replace("    name: apim\n", "    name: apim\n    namespace: default\n"),
        },
        "HRID 'default-a-b' is also the HRID of ApiV4Definition/default/a-b",
        "zz-b.yaml",
        4,
    ),
    Case(
        "plan-key-collision",
        {
            "bad.yaml": API.replace("    Free:", "    Key-less:")
            + "    Key less:\n      name: other\n      security:\n        type: KEY_LESS\n"
        },
        "plan keys 'Key-less' and 'Key less' both become HRID 'Key-less'",
        "bad.yaml",
    ),
    Case(
        "unknown-context",
        {"bad.yaml": api_yaml("bad", context="nope")},
        "contextRef default/nope names no ManagementContext",
        "bad.yaml",
        7,
    ),
    Case(
        "non-http-context",
        {
            "context.yaml": "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: apim\nspec:\n  baseUrl: ftp://127.0.0.1/apim\n"
        },
        "is not an http:// or https:// URL",
        "context.yaml",
        6,
    ),
    Case(
        "context-without-url",
        {
            "context.yaml": "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: apim\nspec:\n  organizationId: DEFAULT\n"
        },
        "missing required field 'baseUrl'",
        "context.yaml",
    ),
    Case(
        "manifest-turns-tls-off",
        {
            "context.yaml": "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: apim\nspec:\n  baseUrl: https://127.0.0.1:1\n  insecureSkipVerify: true\n"
        },
        "unknown field 'insecureSkipVerify'",
        "context.yaml",
        7,
    ),
    Case("empty-repository", {}, "no *.yaml or *.yml manifest files", keep_valid=False),
    Case(
        "every-file-fails",
        {"a.yaml": "a: [\n", "b.yaml": "\tb: 1\n", "c.yaml": "- x\n", "context.yaml": "kind: [\n"},
        "",
        keep_valid=False,
    ),
    Case(
        "application-no-settings",
        {"app.yaml": app_yaml("shop").split("  settings:")[0]},
        "missing required field 'settings'",
        "app.yaml",
    ),
]
