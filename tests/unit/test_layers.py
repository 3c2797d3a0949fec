"""The layers, enforced: data flows one way, handler -> service -> (domain, store, notify).

Each rule names a layer and the modules it must not import (absolute or relative imports,
at module level or inside functions). A rule broken fails with the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "shared" / "vipcare"

# layer (a folder of vipcare, or "functions") -> prefixes of what it must not import, and why
# vipcare.wiring builds the real collaborators and hands them to the handlers: nothing below
# the handlers reaches for it (a service given its collaborators cannot fetch others).
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "domain": (("vipcare.store", "vipcare.services", "vipcare.api", "vipcare.notify", "vipcare.config",
                "vipcare.cli", "vipcare.wiring", "boto3", "pynamodb", "infra"),
               "pure rules: no I/O, no settings, no layer above"),
    "store": (("vipcare.services", "vipcare.api", "vipcare.notify", "vipcare.cli", "vipcare.wiring", "infra"),
              "persistence knows the domain, nothing above it"),
    # notify shares the AWS client settings of store/clients.py (region, retries), nothing else of store
    "notify": (("vipcare.services", "vipcare.api", "vipcare.store.models", "vipcare.store.care_table",
                "vipcare.store.members", "vipcare.store.ledger", "vipcare.cli", "vipcare.wiring", "infra"),
               "sending knows the domain, nothing above it"),
    "services": (("vipcare.api.http", "vipcare.api.errors", "vipcare.cli", "vipcare.wiring", "infra"),
                 "use cases speak domain errors, never HTTP, and are given their collaborators"),
    "api": (("vipcare.cli", "vipcare.wiring", "infra"), "production code never imports the local stack"),
    "functions": (("vipcare.store", "infra"), "handlers call services; storage is theirs to hide"),
}

# Only vipcare.wiring builds the real repositories and senders (tests and the local stack do
# too): services take them as arguments, handlers get them from wiring.


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, resolved to absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(ROOT / "shared").with_suffix("").parts[:-1]) if LIBRARY in path.parents else []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _files(layer: str) -> list[Path]:
    folder = ROOT / "functions" if layer == "functions" else LIBRARY / layer
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_nothing_it_must_not(layer: str):
    forbidden, why = RULES[layer]
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in _files(layer) for line, module in _imports(path)
              if any(module == f or module.startswith(f + ".") for f in forbidden)]
    assert broken == [], f"{layer} ({why}):\n" + "\n".join(broken)


def test_every_layer_has_files_to_check():
    assert all(_files(layer) for layer in RULES)


def _collaborator_classes() -> set[str]:
    """The store's repositories and every class of notify/ (the event bus, SNS, the queues)."""
    names = set()
    for folder in ("store", "notify"):
        for path in (LIBRARY / folder).rglob("*.py"):
            names |= {node.name for node in ast.parse(path.read_text(encoding="utf-8")).body
                      if isinstance(node, ast.ClassDef) and (folder == "notify" or node.name.endswith("Repository"))}
    return names


def _built(path: Path, names: set[str]) -> list[tuple[int, str]]:
    """Calls in `path` that construct one of `names` (`X()` or `module.X()`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in names:
                found.append((node.lineno, name))
    return found


def test_only_wiring_builds_the_real_collaborators():
    names = _collaborator_classes()
    assert {"MemberRepository", "ComplaintRepository", "EventPublisher", "SnsNotifier", "PurchaseQueue"} <= names
    checked = [p for p in sorted(LIBRARY.rglob("*.py"))
               if p != LIBRARY / "wiring.py" and p.relative_to(LIBRARY).parts[0] not in ("store", "notify")]
    broken = [f"{path.relative_to(ROOT)}:{line} builds {name}"
              for path in [*checked, *_files("functions")] for line, name in _built(path, names)]
    assert broken == [], "build it in vipcare.wiring and pass it in:\n" + "\n".join(broken)


def test_the_construction_checker_sees_a_default(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f(repo=None):\n    return (repo or store.MemberRepository()).get('b', 'm')\n",
                     encoding="utf-8")
    assert _built(probe, {"MemberRepository"}) == [(2, "MemberRepository")]


def test_relative_imports_are_resolved():
    """The checker itself: `from ..store.x import y` inside vipcare/services is vipcare.store.x."""
    imports = dict((m, n) for n, m in _imports(LIBRARY / "services" / "purchases.py"))
    assert "vipcare.store.ledger" in imports and "vipcare.domain.access" in imports
