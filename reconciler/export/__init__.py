"""`apim-reconciler export`: adopt what already exists in APIM by writing it out as manifests.

`reader` (APIM calls) -> `build` and `mapping` (pure: APIM's model -> GKO manifests, names, what is
skipped) -> `secrets` (secret-looking values -> templates) -> `writer` (files); `command` ties them
together for the CLI. See docs/export.md.
"""
