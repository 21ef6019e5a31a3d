"""The names manifests go by: their `apiVersion`, the kinds we reconcile and GKO's others, the namespace
of a resource whose metadata names none. A leaf: the flags (`--kind`, `schema KIND`,
`--default-namespace`) read these, and `--help` need not build the model's classes for it (issue 20).
`manifests.model` re-exports every name, so either may be imported.
"""

API_VERSION = "gravitee.io/v1alpha1"

MANAGEMENT_CONTEXT = "ManagementContext"
API_V4_DEFINITION = "ApiV4Definition"
API_DEFINITION = "ApiDefinition"
APPLICATION = "Application"
RECONCILED_KINDS = (MANAGEMENT_CONTEXT, API_V4_DEFINITION, API_DEFINITION, APPLICATION)
OTHER_GKO_KINDS = (
    "ApiResource",
    "Group",
    "Notification",
    "SharedPolicyGroup",
    "Subscription",
    "Gateway",
    "GatewayClassParameters",
    "KafkaRoute",
)
"""Kinds that GKO defines but apim-reconciler does not reconcile (yet): skipped with a warning."""

DEFAULT_NAMESPACE = "default"
