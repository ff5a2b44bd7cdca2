"""pyproject.toml and environment.yml must list the same packages with the same lower bounds."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALIASES = {"psycopg[binary]": "psycopg"}


def _spec(line: str) -> tuple[str, str]:
    name, _, bound = re.match(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*(>=\s*([\w.]+))?", line).groups()
    name = ALIASES.get(name, name).lower()
    return name, (bound or "").replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_spec(d) for d in project["dependencies"] + project["optional-dependencies"]["test"])
    conda = {}
    text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    for line in text.splitlines():
        m = re.match(r"\s+- ([A-Za-z].*)$", line)
        if m and not m.group(1).startswith(("pip", "-e", "python")):
            name, bound = _spec(m.group(1))
            conda[name] = bound
    assert conda == pip
