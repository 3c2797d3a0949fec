"""The layer build (shared/build_layer.py): what it leaves to the runtime, and what it keeps."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("build_layer", ROOT / "shared" / "build_layer.py")
build_layer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_layer)


def _install(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")
    record = [f"{path},," for path in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,",
                                                  f"../../bin/{name}-tool,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")
    for path, text in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)


def test_the_runtime_provided_distributions_go_and_the_rest_stays(tmp_path):
    outside = tmp_path / "bin"
    outside.mkdir()
    (outside / "keep").write_text("")
    site = tmp_path / "layer" / "python"
    _install(site, "botocore", "1.44.8", {"botocore/__init__.py": "", "botocore/data/x.json": "{}"})
    _install(site, "python_dateutil", "2.9.0.post0", {"dateutil/__init__.py": ""})
    _install(site, "six", "1.17.0", {"six.py": ""})
    _install(site, "pynamodb", "6.1.0", {"pynamodb/__init__.py": ""})
    (site / "botocore" / "__pycache__").mkdir()
    (site / "botocore" / "__pycache__" / "stale.pyc").write_text("")  # not in RECORD: goes too

    removed = build_layer.prune_runtime_provided(site)

    assert removed == ["botocore", "python_dateutil", "six"]
    assert sorted(p.name for p in site.iterdir()) == ["pynamodb", "pynamodb-6.1.0.dist-info"]
    assert (outside / "keep").exists() and (tmp_path / "layer").is_dir()  # nothing outside the target


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_every_layer_requirement_is_imported_by_the_library():
    """The layer ships no distribution the code never imports (its dependencies come with it)."""
    imported = set().union(*(_imports(p) for p in (ROOT / "shared" / "vipcare").rglob("*.py")))
    imported |= set().union(*(_imports(p) for p in (ROOT / "functions").glob("*/app.py")))
    import_name = {"aws-lambda-powertools": "aws_lambda_powertools", "tzdata": None}  # tzdata: zoneinfo's data
    for line in (ROOT / "shared" / "requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        dist = re.split(r"[\[<>=!~ ]", line.strip(), maxsplit=1)[0]
        module = import_name.get(dist, dist.replace("-", "_"))
        if module is None:
            assert "zoneinfo" in imported, dist
            continue
        assert module in imported, f"{dist} is in the layer but nothing imports {module}"
