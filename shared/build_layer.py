"""Builds the vipcare layer for Lambda python3.13 arm64 (template.yaml: `BuildMethod: makefile`,
shared/Makefile). `python3.13 build_layer.py <layer root>` writes `<layer root>/python/`.

What sam's own python builder did, plus two things that cost every cold start without them
(tests/bench/cold_start.py, docs/performance.md):

- **Bytecode is shipped.** Lambda's /opt is read-only, so a layer without `.pyc` files is compiled
  from source on every cold start. compileall with unchecked-hash pycs: valid whatever the
  file times become in the zip (2-second resolution), and all CPython 3.13.x read them.
- **What the runtime provides is not shipped.** boto3 and its dependencies (botocore, s3transfer,
  jmespath, python-dateutil, six, urllib3) come with the python3.13 runtime, compiled. pynamodb
  and aws-xray-sdk ask for botocore, so pip puts a second, newer copy in the layer, which
  shadowed the runtime's (layers come first on sys.path) and did not match its boto3.
"""

from __future__ import annotations

import compileall
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLATFORM = ["--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.13",
            "--abi", "cp313", "--only-binary=:all:"]
# The Lambda python3.13 runtime's SDK and what it depends on (distribution names, normalised).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "six", "urllib3"}


def _pip(*args: str) -> None:
    # our own arguments (the requirements file, the layer folder), never user input
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args], check=True)  # noqa: S603


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def prune_runtime_provided(site: Path) -> list[str]:
    """Deletes the runtime-provided distributions pip installed into `site` (by their RECORD)."""
    site = site.resolve()
    removed = []
    for info in sorted(site.glob("*.dist-info")):
        name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        if _normalise(name) not in RUNTIME_PROVIDED:
            continue
        tops = set()
        for line in (info / "RECORD").read_text().splitlines():
            path = (site / line.rsplit(",", 2)[0]).resolve()
            if not path.is_relative_to(site):  # a script pip put outside the target
                continue
            tops.add(path.relative_to(site).parts[0])
            if path.is_file():
                path.unlink()
        for top in tops - {"bin"}:  # its packages whole, with any bytecode not in RECORD
            shutil.rmtree(site / top, ignore_errors=True)
        removed.append(name)
    for folder in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def build(root: Path) -> None:
    site = root.resolve() / "python"
    shutil.rmtree(site, ignore_errors=True)
    with tempfile.TemporaryDirectory() as wheels:
        # Distributions published only as source (lunardate) become wheels here first: pure
        # Python, so the host's build is the one Lambda gets; the rest are arm64 wheels from PyPI
        # (the host's compiled wheels in this folder do not match the platform and are not used).
        _pip("wheel", "--wheel-dir", wheels, "-r", str(HERE / "requirements.txt"))
        _pip("install", "--no-compile", "--target", str(site), "--find-links", wheels, *PLATFORM,
             "-r", str(HERE / "requirements.txt"))
    removed = prune_runtime_provided(site)
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts (holidays-ics): nothing runs them
    shutil.copytree(HERE / "vipcare", site / "vipcare", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if not compileall.compile_dir(site, quiet=1, workers=0,
                                  invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH):
        raise SystemExit("compileall failed")
    print(f"layer built in {site}; left to the runtime: {', '.join(removed)}")


if __name__ == "__main__":
    if sys.version_info[:2] != (3, 13):
        raise SystemExit("build the layer with Python 3.13 (the runtime's): its bytecode is version-specific")
    build(Path(sys.argv[1]))
