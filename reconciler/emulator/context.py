"""What every endpoint handler receives: the store, the directory, and the resolved environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .accounts import Account
from .auth import Directory, Environment
from .messages import Request, Response
from .store import Store


@dataclass(frozen=True)
class Context:
    store: Store
    directory: Directory


@dataclass(frozen=True)
class Call:
    """One authenticated request on one resolved environment."""

    ctx: Context
    request: Request
    user: Account
    env: Environment

    @property
    def org_id(self) -> str:
        return self.env.org_id

    @property
    def env_id(self) -> str:
        return self.env.id


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
