"""Shared helpers of the emulator tests: spec validators built from the real specs, sample bodies.

Responses are validated with openapi-schema-validator (``OAS30Validator`` for the mAPI v2 files,
``OAS31Validator`` for the Automation API) over a ``referencing`` registry holding every spec file under
its file URI, after the discriminator rewrite described in the reference README (openapi-core cannot load
``openapi-apis.yaml``).
"""

from __future__ import annotations

from typing import Any

from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012
from ruamel.yaml import YAML

from tests.reference import OPENAPI_DIR

SPEC_DIR = OPENAPI_DIR
AUTOMATION = "automation-open-api.yaml"
APIS = "openapi-apis.yaml"
INSTALLATION = "openapi-installation.yaml"
CRD = "mapi-v2-crd-import.derived.yaml"
ORG = ENV = "DEFAULT"
AUTO = f"/automation/organizations/{ORG}/environments/{ENV}"
V2 = f"/management/v2/organizations/{ORG}/environments/{ENV}"
V1 = f"/management/organizations/{ORG}/environments/{ENV}"


def _rewrite_discriminators(node: Any) -> Any:
    """Drop discriminators beside ``allOf`` or alone; turn ``oneOf`` + mapping into a guarded ``anyOf``."""
    if isinstance(node, list):
        return [_rewrite_discriminators(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rewrite_discriminators(v) for k, v in node.items()}
    disc = out.pop("discriminator", None)
    if disc is not None and "oneOf" in out and disc.get("mapping"):
        prop = disc["propertyName"]
        out.pop("oneOf")
        out["anyOf"] = [
            {"allOf": [{"properties": {prop: {"enum": [key]}}, "required": [prop]}, {"$ref": target}]}
            for key, target in disc["mapping"].items()
        ]
    return out


class SpecBook:
    """Validators for ``file#/components/...`` pointers across all reference spec files."""

    def __init__(self) -> None:
        yaml = YAML(typ="safe", pure=False)
        resources = []
        self.docs: dict[str, Any] = {}
        for path in sorted(SPEC_DIR.glob("*.yaml")):
            doc = _rewrite_discriminators(yaml.load(path.read_text(encoding="utf-8")))
            self.docs[path.name] = doc
            spec = DRAFT202012 if str(doc.get("openapi", "")).startswith("3.1") else DRAFT4
            resources.append((path.as_uri(), Resource.from_contents(doc, default_specification=spec)))
        self.registry: Registry[Any] = Registry().with_resources(resources)

    def validator(self, file: str, pointer: str) -> OAS30Validator | OAS31Validator:
        cls = OAS31Validator if file == AUTOMATION else OAS30Validator
        return cls({"$ref": f"{(SPEC_DIR / file).as_uri()}#{pointer}"}, registry=self.registry)

    def check(self, file: str, pointer: str, instance: Any) -> None:
        errors = sorted(self.validator(file, pointer).iter_errors(instance), key=str)
        assert not errors, f"{file}#{pointer}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5]
        )

    def schema(self, file: str, name: str, instance: Any) -> None:
        self.check(file, f"/components/schemas/{name}", instance)


API_SPEC: dict[str, Any] = {
    "hrid": "default-my-api",
    "name": "My API",
    "version": "1.0.0",
    "type": "PROXY",
    "description": "An API managed by apim-reconciler",
    "state": "STARTED",
    "lifecycleState": "UNPUBLISHED",
    "visibility": "PRIVATE",
    "labels": ["demo"],
    "listeners": [
        {
            "type": "HTTP",
            "paths": [{"path": "/my-api"}],
            "entrypoints": [{"type": "http-proxy", "qos": "AUTO"}],
        }
    ],
    "endpointGroups": [
        {
            "name": "default-group",
            "type": "http-proxy",
            "endpoints": [
                {
                    "name": "default",
                    "type": "http-proxy",
                    "weight": 1,
                    "inheritConfiguration": False,
                    "configuration": {"target": "https://api.gravitee.io/echo"},
                }
            ],
        }
    ],
    "plans": [
        {
            "hrid": "keyless",
            "name": "Keyless",
            "security": {"type": "KEY_LESS"},
            "status": "PUBLISHED",
            "type": "API",
            "mode": "STANDARD",
            "validation": "AUTO",
        }
    ],
    "metadata": [{"name": "Team Name", "format": "STRING", "value": "platform"}],
    "notifyMembers": True,
}

APP_SPEC: dict[str, Any] = {
    "hrid": "default-my-app",
    "name": "My application",
    "description": "A consumer",
    "settings": {"app": {"type": "web", "clientId": "my-client"}},
}

# Users of every kind the permission tests need: the organization ADMIN ``admin`` (ADMIN everywhere),
# two API publishers, a plain user (the defaults a new user gets) and an organization ADMIN without any
# environment role.
PEOPLE: dict[str, Any] = {
    "organizations": [{"id": ORG, "environments": [{"id": ENV, "hrids": ["default"]}]}],
    "users": [
        {"username": "admin", "password": "admin", "organizations": [ORG]},
        {
            "username": "publisher",
            "password": "p",
            "organizations": [ORG],
            "roles": {f"ORGANIZATION:{ORG}": ["USER"], f"ENVIRONMENT:{ENV}": ["API_PUBLISHER"]},
        },
        {
            "username": "other",
            "password": "o",
            "organizations": [ORG],
            "roles": {f"ORGANIZATION:{ORG}": ["USER"], f"ENVIRONMENT:{ENV}": ["API_PUBLISHER"]},
        },
        {
            "username": "user",
            "password": "u",
            "organizations": [ORG],
            "roles": {f"ORGANIZATION:{ORG}": ["USER"], f"ENVIRONMENT:{ENV}": ["USER"]},
        },
        {
            "username": "orgadmin",
            "password": "oa",
            "organizations": [ORG],
            "roles": {f"ORGANIZATION:{ORG}": ["ADMIN"]},
        },
    ],
}
LOGINS = {
    "admin": ("admin", "admin"),
    "publisher": ("publisher", "p"),
    "other": ("other", "o"),
    "user": ("user", "u"),
    "orgadmin": ("orgadmin", "oa"),
}


def api_body(hrid: str, path: str | None = None, **changes: Any) -> dict[str, Any]:
    """A copy of API_SPEC under another HRID and listener path."""
    import copy

    body = copy.deepcopy(API_SPEC)
    body["hrid"] = hrid
    body["name"] = changes.pop("name", hrid)
    body["listeners"][0]["paths"] = [{"path": path or f"/{hrid}"}]
    body.update(changes)
    return body
