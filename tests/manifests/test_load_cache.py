"""The daemon's load cache: a file whose bytes did not change is not parsed again, and a load with
the cache gives exactly what a load without it gives (resources, problems, positions)."""

from __future__ import annotations

from pathlib import Path

from reconciler.manifests import LoadOptions, load_manifests
from reconciler.manifests.loader import LoadCache
from reconciler.manifests.model import ManifestSet
from tests.manifests.helpers import CONTEXT, api_v4, write


def _same(cached: ManifestSet, fresh: ManifestSet) -> None:
    assert cached.resources == fresh.resources
    assert [r.position for r in cached.resources] == [r.position for r in fresh.resources]
    assert cached.problems == fresh.problems
    assert cached.files == fresh.files


def test_unchanged_files_come_from_the_cache_and_changed_ones_are_parsed(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    for name in ("a", "b", "c"):
        write(tmp_path, f"apis/{name}.yaml", api_v4(name, path=f"/{name}"))
    cache = LoadCache()
    first = load_manifests([tmp_path], cache=cache)
    assert first.ok, first.problems
    assert (cache.hits, cache.misses) == (0, 4)
    _same(load_manifests([tmp_path], cache=cache), load_manifests([tmp_path]))
    assert (cache.hits, cache.misses) == (4, 4)

    write(tmp_path, "apis/b.yaml", api_v4("b", path="/b2"))
    changed = load_manifests([tmp_path], cache=cache)
    assert (cache.hits, cache.misses) == (7, 5)
    _same(changed, load_manifests([tmp_path]))
    api = next(r for r in changed.resources if r.name == "b")
    assert api.spec["listeners"][0]["paths"][0]["path"] == "/b2"  # type: ignore[index]


def test_a_deleted_file_is_forgotten_and_problems_are_kept(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "apis/a.yaml", api_v4("a", path="/a"))
    write(tmp_path, "apis/broken.yaml", "kind: [unclosed\n")
    cache = LoadCache()
    first = load_manifests([tmp_path], cache=cache)
    again = load_manifests([tmp_path], cache=cache)
    assert not first.ok and again.problems == first.problems  # a YAML error is cached with its file
    assert cache.hits == 3
    (tmp_path / "apis" / "broken.yaml").unlink()
    gone = load_manifests([tmp_path], cache=cache)
    assert gone.ok, gone.problems
    assert len(cache) == 2


def test_the_default_namespace_is_part_of_the_key(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT.replace("  namespace: default\n", ""))
    write(tmp_path, "apis/a.yaml", api_v4("a").replace("  namespace: default\n", ""))
    cache = LoadCache()
    load_manifests([tmp_path], cache=cache)
    other = load_manifests([tmp_path], LoadOptions(default_namespace="team"), cache=cache)
    assert cache.hits == 0
    _same(other, load_manifests([tmp_path], LoadOptions(default_namespace="team")))


def test_a_list_and_an_ignored_file_load_alike_with_the_cache(tmp_path: Path) -> None:
    items = "".join(
        "  - " + doc.replace("\n", "\n    ").rstrip() + "\n" for doc in (CONTEXT, api_v4("a", path="/a"))
    )
    write(tmp_path, "all.yaml", "apiVersion: v1\nkind: List\nitems:\n" + items)
    write(tmp_path, "skipped/b.yaml", api_v4("b", path="/b"))
    write(tmp_path, ".sourceignore", "skipped/\n")
    cache = LoadCache()
    first = load_manifests([tmp_path], cache=cache)
    assert first.ok, first.problems
    assert sorted(r.name for r in first.resources) == ["a", "ctx"]
    again = load_manifests([tmp_path], cache=cache)
    assert cache.hits == 1 and len(cache) == 1
    _same(again, load_manifests([tmp_path]))
    assert again.ignored == first.ignored != ()
