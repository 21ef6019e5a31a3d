"""Sources of manifests: a folder (and, soon, a git repository); every sync is tied to one commit."""
