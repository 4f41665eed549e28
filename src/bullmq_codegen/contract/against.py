"""The earlier contract ``diff --against`` compares with: a saved export, or a git ref.

A path is a ``contract.json`` (from ``export jsonschema``) or a directory holding
one. Anything else is read as a git ref of the repository holding the
definitions: its tree is extracted to a temporary directory (``git archive``)
and the definitions at the same path are exported there, by this interpreter in
a subprocess (so the two versions of the user's modules never meet in one
module cache), with the project's own source folders taken from that tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BullMQCodegenError
from .model import Contract

__all__ = ["Against", "AgainstError", "load_against"]


class AgainstError(BullMQCodegenError):
    """The earlier contract cannot be read (no such file or ref, or its definitions fail)."""


@dataclass(frozen=True, slots=True)
class Against:
    """The earlier contract and where it came from."""

    contract: Contract
    source: str
    """``contract.json``'s path, or ``git ref <ref> (<commit>)``."""


def load_against(against: str, definitions: str, base_dir: Path) -> Against:
    """The contract ``against`` names (see the module docstring).

    ``definitions`` and ``base_dir`` are the current definitions' spec and the
    directory it is resolved from, as ``resolve_settings`` found them.
    """
    path = Path(against)
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.is_dir() and (path / "contract.json").is_file():
        path = path / "contract.json"
    if path.is_file():
        return Against(_read(path), str(path))
    if path.is_dir():
        raise AgainstError(f"--against {against}: a directory without a contract.json")
    return _from_git(against, definitions, base_dir)


def _read(path: Path) -> Contract:
    try:
        return Contract.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AgainstError(
            f"{path}: not a contract.json written by export jsonschema ({error})"
        ) from None


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _from_git(ref: str, definitions: str, base_dir: Path) -> Against:
    top = _git(base_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise AgainstError(
            f"--against {ref}: no such file, and {base_dir} is not in a git repository"
        )
    root = Path(top.stdout.strip()).resolve()
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise AgainstError(f"--against {ref}: no such file, and not a git ref of {root}")
    sha = commit.stdout.strip()
    where = f"git ref {ref} ({sha[:12]})"
    base = base_dir.resolve()
    if not base.is_relative_to(root):
        raise AgainstError(f"--against {ref}: {base} is outside the repository {root}")
    spec = _spec_in(definitions, base, root, ref)
    with tempfile.TemporaryDirectory(prefix="bullmq-codegen-diff-") as temp:
        tree = Path(temp) / "tree"
        tree.mkdir()
        _extract(root, sha, tree, ref)
        out = Path(temp) / "export"
        cwd = tree / base.relative_to(root)
        location = spec.partition(":")[0]
        if not cwd.is_dir() or (location.endswith(".py") and not (cwd / location).is_file()):
            # the definitions are new since the ref (say, the change that adds them): every
            # job is added, and nothing could be waiting for them
            return Against(Contract(source=spec, prefix="", jobs=()), f"{where}, no definitions")
        command = [sys.executable, "-m", "bullmq_codegen", "export", "jsonschema"]
        exported = subprocess.run(
            [*command, "--config", spec, "--out", str(out)],
            cwd=cwd,
            env=_environment(root, tree),
            capture_output=True,
            text=True,
            check=False,
        )
        if exported.returncode != 0:
            details = (
                (exported.stderr or exported.stdout).strip().replace(str(tree) + os.sep, f"{ref}:")
            )
            raise AgainstError(f"the definitions {spec} at {where} do not load:\n{details}")
        return Against(_read(out / "contract.json"), where)


def _spec_in(definitions: str, base: Path, root: Path, ref: str) -> str:
    """``definitions`` as a spec valid from the same directory of the extracted tree."""
    location, colon, attribute = definitions.partition(":")
    if not Path(location).is_absolute():
        return definitions
    resolved = Path(location).resolve()
    if not resolved.is_relative_to(root):
        raise AgainstError(
            f"--against {ref}: the definitions {resolved} are outside the repository {root}"
        )
    relative = os.path.relpath(resolved, base)
    return relative + colon + attribute


def _extract(root: Path, sha: str, tree: Path, ref: str) -> None:
    archive = tree.parent / "tree.tar"
    with archive.open("wb") as out:
        made = subprocess.run(
            ["git", "archive", "--format=tar", sha], cwd=root, stdout=out, stderr=subprocess.PIPE
        )
    if made.returncode != 0:
        raise AgainstError(f"--against {ref}: git archive failed: {made.stderr.decode().strip()}")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: no links or paths out of ``tree``
            tar.extractall(tree, filter="data")
        else:  # pragma: no cover - our own git archive, read from our own repository
            tar.extractall(tree)
    archive.unlink()


def _environment(root: Path, tree: Path) -> dict[str, str]:
    """This environment, with the folders of ``sys.path`` inside the repository (its ``src/``,
    an editable install's) taken from the extracted tree, except the one bullmq-codegen runs
    from (the current tool reads the old definitions)."""
    tool = Path(__file__).resolve().parents[2]
    mapped: list[str] = []
    for entry in sys.path:
        folder = Path(entry or ".").resolve()
        if folder.is_relative_to(root) and folder != tool:
            there = tree / folder.relative_to(root)
            if there.is_dir():
                mapped.append(str(there))
    existing = os.environ.get("PYTHONPATH")
    paths = [*dict.fromkeys(mapped), *([existing] if existing else [])]
    environment = dict(os.environ)
    if paths:
        environment["PYTHONPATH"] = os.pathsep.join(paths)
    return environment
