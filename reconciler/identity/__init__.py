"""apim-reconciler's own APIM identity: a service account, its roles, and its token's life.

`create_service_account` automates Gravitee's GKO guide (a service-account user with ADMIN on the
organization and API_PUBLISHER on the environment, a token in the context's secret); `check_identity`
says who a context's credentials are and whether they can work (the daemon serves it); `rotate_token`
replaces the token without a moment when the context has none that works.
"""

from reconciler.identity.model import IdentityStatus
from reconciler.identity.status import check_identity

__all__ = [
    "IdentityStatus",
    "check_identity",
]
