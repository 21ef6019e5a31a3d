"""`apim-reconciler export`: find the context, read APIM, map, write, check what was written.

The written folder is loaded back with the same loader as `validate`, so an export that would not
validate (a field APIM holds that the schemas refuse) is reported at once, file and line, rather
than at the first sync.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler import kinds
from reconciler.apim.config import ClientConfig
from reconciler.contexts import connect_context
from reconciler.defaults import DEFAULT_OWNER
from reconciler.export.build import Skipped, build_manifests, context_manifest
from reconciler.export.mapping import Manifest
from reconciler.export.reader import read_environment
from reconciler.export.secrets import SecretRef
from reconciler.export.writer import OutputFile, relative_path, render_yaml, write_files
from reconciler.kinds.exports import ContextRef
from reconciler.manifests import LoadOptions, load_manifests
from reconciler.manifests.model import MANAGEMENT_CONTEXT, ManifestSet, Problem, Resource, Severity
from reconciler.secrets.store import SecretStore, SourceKind, env_var_name
from reconciler.textsafe import printable


class ExportError(Exception):
    """The export cannot start or finish (context not found, unreadable); nothing was written."""


@dataclass(frozen=True)
class ExportOptions:
    out_dir: Path
    namespace: str | None = None
    """Namespace of the exported resources; None: the context's."""
    force: bool = False
    write_context: bool = False
    include_without_hrid: bool = False
    per_page: int = 100
    concurrency: int = 8
    owner_id: str = DEFAULT_OWNER


@dataclass(frozen=True)
class ExportResult:
    written: tuple[Path, ...]
    manifests: tuple[Manifest, ...]
    skipped: tuple[Skipped, ...]
    problems: tuple[Problem, ...]
    """What the loader finds wrong with the written files (errors make the export fail)."""

    @property
    def secrets(self) -> tuple[SecretRef, ...]:
        return tuple(s for m in self.manifests for s in m.secrets)

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


def find_context(reference: str, search_path: Path, load: LoadOptions) -> Resource:
    """A ManagementContext: the one in file `reference`, or the one named `[namespace/]name` under
    `search_path` (the repository that `check-context` and `sync` would read)."""
    candidate = Path(reference)
    if candidate.is_file():
        contexts = _contexts(load_manifests([candidate], load))
        if len(contexts) != 1:
            raise ExportError(f"{reference} holds {len(contexts)} ManagementContexts; name one")
        return contexts[0]
    if not search_path.exists():
        raise ExportError(
            f"{reference} is not a file, and {search_path} (where to look it up) does not exist"
        )
    namespace, _, name = reference.rpartition("/")
    found = [
        c
        for c in _contexts(load_manifests([search_path], load))
        if c.name == name and (not namespace or c.namespace == namespace)
    ]
    if not found:
        raise ExportError(f"no ManagementContext named {reference!r} under {search_path}")
    if len(found) > 1:
        where = ", ".join(f"{c.namespace}/{c.name}" for c in found)
        raise ExportError(f"{reference!r} is ambiguous under {search_path} ({where}): write namespace/name")
    return found[0]


def _contexts(manifests: ManifestSet) -> list[Resource]:
    return list(manifests.of_kind(MANAGEMENT_CONTEXT))


async def run_export(
    context: Resource, store: SecretStore, client_config: ClientConfig, options: ExportOptions
) -> ExportResult:
    """Read the context's environment and write its manifests under `options.out_dir`.

    Raises `OverwriteRefused` and `UnsafeOutput` (nothing written) and the client's errors (`ApimError`,
    `SecretResolutionError`, `EndpointError` and its `BindingError`) as they come; those of the
    context itself come before any request.
    """
    namespace = options.namespace or context.namespace
    async with connect_context(context, store, client_config, live=True) as client:
        contents = await read_environment(client, per_page=options.per_page, concurrency=options.concurrency)
        environment_id = client.target.environment_id
    selection = build_manifests(
        contents,
        namespace,
        ContextRef(context.namespace, context.name),
        environment_id=environment_id,
        include_without_hrid=options.include_without_hrid,
        owner_id=options.owner_id,
    )
    manifests = list(selection.manifests)
    if options.write_context:
        manifests.append(context_manifest(context))
    files = [OutputFile(relative_path(m.kind, m.name), render_yaml(m.document)) for m in manifests]
    written = write_files(options.out_dir, files, force=options.force)
    return ExportResult(
        tuple(written), tuple(manifests), selection.skipped, _check(options, context, written)
    )


def _check(options: ExportOptions, context: Resource, written: Sequence[Path]) -> tuple[Problem, ...]:
    if not written:
        return ()
    paths: list[Path] = list(written)
    context_file = Path(context.position.file) if context.position.file else None
    if not options.write_context and context_file is not None and context_file.is_file():
        paths.append(context_file)  # so that contextRefs resolve
    loaded = load_manifests(paths)
    mine = {str(p) for p in written}
    return tuple(p for p in loaded.problems if p.position is None or p.position.file in mine)


def render_text(result: ExportResult, out_dir: Path, secrets_dir: Path) -> str:
    lines: list[str] = []
    for manifest, path in zip(result.manifests, result.written, strict=True):
        hrid = f", HRID {manifest.hrid}" if manifest.hrid else ""
        lines.append(f"wrote {path} ({manifest.label}{hrid})")
        lines += [f"  note: {note}" for note in manifest.notes]
    for skip in result.skipped:
        lines.append(f"skipped {skip.kind} {skip.name!r} (id {skip.id}): {skip.reason}")
    for problem in result.problems:
        lines.append(str(problem))
    secrets = result.secrets
    if secrets:
        lines.append("")
        lines.append(
            f"{len(secrets)} secret value(s) were replaced by [[ secret ]] templates and not written. "
            "Create them (values from APIM or your vault) as a Kubernetes Secret, a file "
            f"{secrets_dir}/NAMESPACE/NAME/KEY, or an environment variable:"
        )
        for ref in secrets:
            env = env_var_name(SourceKind.SECRET, ref.namespace, ref.name, ref.key)
            lines.append(f"  secret {ref.namespace}/{ref.name} key {ref.key}  (spec.{ref.path}; env {env})")
    counts = Counter(kinds.kind(m.kind).noun for m in result.manifests if m.kind in kinds.MANAGED_KINDS)
    exported = " and ".join(
        f"{counts[noun]} {noun}(s)" for noun in dict.fromkeys(k.noun for k in kinds.KINDS)
    )
    lines.append("")
    lines.append(
        f"Exported {exported} to {out_dir}; {len(result.skipped)} skipped. "
        f"Next: apim-reconciler diff {out_dir} (with the context), then sync --adopt once."
    )
    return "\n".join(map(printable, lines)) + "\n"  # APIM's names and messages
