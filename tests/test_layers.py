"""The import contracts of `pyproject.toml` ([tool.importlinter]): the project keeps them, and they can fail.

`make lint` runs `lint-imports` too; running it here puts the layers under CI, which runs the suite. The
second test copies the project's packages, adds one import that points up (brands → cases) and checks that
the same command then fails naming it, so a contract that could never fail would be caught.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PACKAGES = (
    "marketsafe",
    "core",
    "brands",
    "listings",
    "cases",
    "safeguards",
    "detection",
    "investigations",
    "integrations",
    "reports",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_project_keeps_every_import_contract():
    result = _lint_imports(Path(settings.BASE_DIR))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_an_import_pointing_up_breaks_the_contracts(tmp_path):
    root = Path(settings.BASE_DIR)
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    (tmp_path / "brands" / "layer_probe.py").write_text("import cases.models  # noqa: F401\n")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0
    assert "brands.layer_probe -> cases.models" in result.stdout
    assert "brands and listings never import cases BROKEN" in " ".join(result.stdout.split())
