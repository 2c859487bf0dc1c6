"""README.md stays true: its Quick start commands, and every setting the code reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def variables_the_code_reads() -> set[str]:
    names: set[str] = set()
    for folder in ("config", "accounts", "rooms", "facilitator", "moderation"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"env_(?:str|bool|int|list)\(\s*\"([A-Z0-9_]+)\"", path.read_text()))
    return names


def test_every_setting_the_code_reads_is_documented():
    configuration = README[README.index("## Configuration") : README.index("## Architecture")]
    documented = set(re.findall(r"`([A-Z0-9_]+)`", configuration))
    missing = variables_the_code_reads() - documented
    assert not missing, f"README's Configuration lacks {sorted(missing)}"


def test_quick_start_is_the_two_commands_and_ci_runs_the_test_one():
    quick_start = README[README.index("## Quick start") :].split("\n## ")[0]
    commands = re.findall(r"^(make \w+)", quick_start, re.MULTILINE)
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.count("make test") == 2, "CI runs the README's test command on both configurations"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: ", makefile, re.MULTILINE) and re.search(r"^test: ", makefile, re.MULTILINE)


def test_screenshots_in_the_readme_exist():
    for image in re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", README):
        assert (ROOT / image).is_file(), image
    assert "docs/screenshots/" in README
