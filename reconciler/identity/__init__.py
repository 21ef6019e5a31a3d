"""apim-reconciler's own APIM identity: a service account, its roles, and its token's life.

`create_service_account` automates Gravitee's GKO guide (a service-account user with ADMIN on the
organization and API_PUBLISHER on the environment, a token in the context's secret); `check_identity`
says who a context's credentials are and whether they can work (the daemon serves it); `rotate_token`
replaces the token without a moment when the context has none that works.
"""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.identity.model import IdentityStatus
    from reconciler.identity.status import check_identity
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = [
    "IdentityStatus",
    "check_identity",
]
