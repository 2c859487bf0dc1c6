"""The layers of issue 21, checked by import-linter with the contract in pyproject.toml.

`record : program` (which may import each other) above `facilitator | moderation`
(siblings: neither imports the other) above `rooms`
above `accounts` above `config`: a package imports only those below it, at the
top of a module or inside a function. `config.asgi` is the composition root
(it mounts the room sockets); `config.urls` includes the apps' URLconfs by
string. scripts/checks runs the same command in CI; this test runs it with the
suite, and shows on small made-up trees that the contract does fail when broken.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_circle_keeps_its_layers() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def contract_text() -> str:
    """pyproject.toml's import-linter tables, as they stand (copied into each made-up tree)."""
    lines = (ROOT / "pyproject.toml").read_text().splitlines()
    kept: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("["):
            inside = line.lstrip("[").startswith("tool.importlinter")
        if inside:
            kept.append(line)
    assert kept, "pyproject.toml has no [tool.importlinter] contract"
    return "\n".join(kept) + "\n"


# Every package of the contract, each importing only what it may.
ALLOWED = {
    "config/__init__.py": "",
    "config/settings.py": "",
    "config/urls.py": 'URLCONFS = ["facilitator.urls", "moderation.urls"]  # by string\n',
    "config/asgi.py": "import rooms.routing  # the composition root\n",
    "accounts/__init__.py": "",
    "accounts/models.py": "import config.settings\n",
    "rooms/__init__.py": "",
    "rooms/routing.py": "import rooms.hub\n",
    "rooms/hub.py": "import accounts.models\nimport config.settings\n",
    "facilitator/__init__.py": "",
    "facilitator/urls.py": "import rooms.hub\n",
    "moderation/__init__.py": "",
    "moderation/urls.py": "import rooms.hub\nimport accounts.models\n",
    # record and program stand above facilitator and moderation, and may use each other.
    "record/__init__.py": "",
    "record/urls.py": "import program.urls\nimport facilitator.urls\n",
    "program/__init__.py": "",
    "program/urls.py": "import facilitator.urls\nimport moderation.urls\n",
}


def made_up_tree(root: Path, **changes: str) -> Path:
    """The allowed tree under root, with some modules' code replaced (keys: dotted module names)."""
    files = dict(ALLOWED)
    for module, code in changes.items():
        files[module.replace(".", "/") + ".py"] = code
    for name, code in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    (root / "pyproject.toml").write_text(contract_text())
    return root


def test_a_tree_within_the_layers_passes(tmp_path: Path) -> None:
    result = lint_imports(made_up_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("changes", "reported"),
    [
        ({"rooms.hub": "import facilitator.urls\n"}, "rooms is not allowed to import facilitator"),
        (
            {"rooms.hub": "def later():\n    from moderation import urls\n"},
            "rooms is not allowed to import moderation",
        ),
        ({"facilitator.urls": "import moderation.urls\n"}, "facilitator is not allowed to import moderation"),
        ({"facilitator.urls": "import program.urls\n"}, "facilitator is not allowed to import program"),
        ({"moderation.urls": "import facilitator.urls\n"}, "moderation is not allowed to import facilitator"),
        ({"accounts.models": "import rooms.hub\n"}, "accounts is not allowed to import rooms"),
        ({"config.settings": "import accounts.models\n"}, "config is not allowed to import accounts"),
        ({"config.urls": "import facilitator.urls\n"}, "config is not allowed to import facilitator"),
        (
            {"config.asgi": "import rooms.routing\nimport facilitator.urls\n"},
            "config is not allowed to import facilitator",
        ),
    ],
    ids=[
        "core-imports-an-app",
        "core-imports-an-app-in-a-function",
        "facilitator-imports-its-sibling",
        "facilitator-imports-the-program-above-it",
        "moderation-imports-its-sibling",
        "accounts-imports-the-core",
        "config-imports-accounts",
        "urls-imports-an-app-module",
        "asgi-imports-an-app",
    ],
)
def test_a_tree_across_the_layers_fails(tmp_path: Path, changes: dict[str, str], reported: str) -> None:
    result = lint_imports(made_up_tree(tmp_path, **changes))
    assert result.returncode != 0, result.stdout
    assert reported in result.stdout, result.stdout + result.stderr
