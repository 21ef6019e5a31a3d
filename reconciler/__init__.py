"""apim-reconciler: keep Gravitee API Management in step with a git repository of GKO manifests."""

__version__ = "0.1.0"
