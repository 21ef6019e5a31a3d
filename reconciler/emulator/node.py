"""``GET /_node``: the node's internal API, the only place a real APIM reports its version.

No endpoint of the Automation API, mAPI v1 or mAPI v2 returns the server's version (none of their
resources reads ``Version.RUNTIME_VERSION``). The node itself does: gravitee-node's ``NodeEndpoint``
(``gravitee-node-management``, mounted at ``/_node`` by ``ManagementVerticle``) answers ``NodeInfos``
``{id, name, metadata, version: {BUILD_ID, BUILD_NUMBER, MAJOR_VERSION, REVISION}}`` (gravitee-common
``Version``: public final fields, ``MAJOR_VERSION`` is the full ``4.x.y``). The REST API node's name is
``Gravitee.io - Rest APIs`` (``GraviteeApisNode.name``). A failed Basic check is a 401 with
``WWW-Authenticate: Basic realm="gravitee.io"`` (``ManagementVerticle``, vert.x ``BasicAuthHandler``).

On a real installation this endpoint listens on its own port, ``services.core.http.port`` (18083,
bound to ``localhost`` in the shipped ``gravitee.yml``), with its own Basic credentials
(``services.core.http.authentication.users``, ``admin: adminadmin`` as shipped), not on the REST API
port and not with APIM users. The emulator serves it on its single port, with those credentials
(``EmulatorConfig.node_credentials``): a client must be told the node URL separately on a real server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json

from .config import EmulatorConfig
from .ids import name_uuid
from .messages import Request, Response
from .versions import ApimVersion

PATH = "/_node"


def handle(request: Request, config: EmulatorConfig, version: ApimVersion) -> Response:
    if request.method != "GET":
        return Response.empty(405)
    if not _authorized(request.headers.get("authorization"), config.node_credentials):
        return Response.empty(401, {"WWW-Authenticate": 'Basic realm="gravitee.io"'})
    node_id = name_uuid(f"emulator-node:{config.host}:{config.port}")
    body = {
        "id": node_id,
        "name": "Gravitee.io - Rest APIs",
        "metadata": {
            "node.id": node_id,
            "node.hostname": config.host,
            "organizations": [],
            "environments": [],
        },
        "version": {
            "BUILD_ID": "emulator",
            "BUILD_NUMBER": "emulator",
            "MAJOR_VERSION": str(version),
            "REVISION": "emulator",
        },
    }
    # NodeEndpoint writes with the pretty printer
    return Response(200, json.dumps(body, indent=2).encode(), {"Content-Type": "application/json"})


def _authorized(header: str | None, credentials: tuple[str, str]) -> bool:
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return bool(sep) and all(
        hmac.compare_digest(a.encode(), b.encode())
        for a, b in ((user, credentials[0]), (password, credentials[1]))
    )
