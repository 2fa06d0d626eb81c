"""Packaging: the shipped files as the app reads them, and the wheel as a user installs it.

The wheel tests build the wheel from a copy of this checkout, install it into a
new venv in a temporary folder and run the installed ``convviz`` from there: it
must list every preset and export a picture with nothing of the checkout on its
path. To stay quick and offline the new venv borrows the running interpreter's
already-installed dependencies through a ``.pth`` line; a ``.pth`` line only adds
a folder to ``sys.path`` (the ``.pth`` files inside that folder, such as an
editable install's hook, are not run), and the wheel's own folder comes first.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from gui.models import resources

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "resources"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: What the build may leave out of the copy: version control, venvs, caches and old build output.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", ".tox", "build", "dist", "*.egg-info",
                                    "__pycache__", ".*_cache", ".hypothesis", "out")


def shipped(folder: str, pattern: str) -> list[str]:
    return sorted(p.name for p in (SHIPPED / folder).glob(pattern))


def preset_stems() -> list[str]:
    return sorted(p.stem for p in (SHIPPED / "presets").glob("*.json"))


# --------------------------------------------------------------------------- the resources API


def test_a_checkout_reads_its_own_resources_folder() -> None:
    assert Path(str(resources.resources_root())) == SHIPPED
    assert resources.preset_names() == preset_stems()
    assert len(resources.preset_names()) == 33  # 14, conv_arithmetic, stamps, global, groups, 3 1-D, matrix
    assert resources.deck_names() == ["conv-arithmetic", "conv-arithmetic-stage", "sequences"]
    assert resources.deck_path("conv-arithmetic") == SHIPPED / "decks" / "conv-arithmetic.json"
    assert resources.image_path("digit.png") == SHIPPED / "images" / "digit.png"
    text = resources.preset_text("conv-stride2")
    assert text == (SHIPPED / "presets" / "conv-stride2.json").read_text(encoding="utf-8")
    assert json.loads(text)["format"] == "convviz-scenario"


@pytest.mark.parametrize(("call", "name", "listed"), [
    (resources.preset_text, "no-such-preset", "conv-stride2"),
    (resources.preset_text, "../decks/conv-arithmetic", "conv-stride2"),
    (resources.deck_path, "nope", "conv-arithmetic"),
    (resources.image_path, "digit", "digit.png"),
    (resources.image_path, "../presets/conv-stride2.json", "digit.png"),
])
def test_an_unknown_name_is_a_key_error_that_lists_the_known_ones(call, name: str, listed: str) -> None:
    with pytest.raises(KeyError) as info:
        call(name)
    message = str(info.value)
    assert message.startswith("there is no ") and repr(name) in message and listed in message
    assert not message.startswith("'")  # plain words, not KeyError's quoted repr


def test_without_a_checkout_the_installed_package_is_read(tmp_path: Path, monkeypatch) -> None:
    pkg = tmp_path / "site" / resources.PACKAGE
    (pkg / "presets").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "presets" / "only.json").write_text("{}")
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path / "not-a-checkout")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, resources.PACKAGE, raising=False)
    assert resources.preset_names() == ["only"]
    assert resources.preset_text("only") == "{}"
    assert resources.deck_names() == []


def test_a_zipped_install_still_hands_out_real_files(tmp_path: Path, monkeypatch) -> None:
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{resources.PACKAGE}/__init__.py", "")
        zf.writestr(f"{resources.PACKAGE}/images/dot.png", PNG_MAGIC + b"rest")
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path / "not-a-checkout")
    monkeypatch.syspath_prepend(str(archive))
    monkeypatch.delitem(sys.modules, resources.PACKAGE, raising=False)
    path = resources.image_path("dot.png")
    assert isinstance(path, Path) and path.read_bytes() == PNG_MAGIC + b"rest"


def test_with_neither_the_error_says_to_reinstall(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path)
    monkeypatch.setitem(sys.modules, resources.PACKAGE, None)  # not importable
    with pytest.raises(FileNotFoundError, match="reinstall convviz"):
        resources.preset_names()


# --------------------------------------------------------------------------- the wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout (an in-place build would leave build/ behind)."""
    base = tmp_path_factory.mktemp("wheel")
    src, out = base / "src", base / "dist"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)]
    try:  # the venv's own setuptools builds offline; without one recent enough pip fetches it
        ok = int(importlib.metadata.version("setuptools").split(".")[0]) >= 77
    except importlib.metadata.PackageNotFoundError:
        ok = False
    if ok:
        cmd.insert(5, "--no-build-isolation")
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    (built,) = out.glob("convviz-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_the_app_its_files_and_its_licence(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        meta = Parser().parsestr(zf.read(f"{info}/METADATA").decode())
        licence = zf.read(f"{info}/licenses/LICENSE").decode()
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    assert {n.split("/")[0] for n in names} == {"engine", "gui", "convviz_resources", info}
    for folder, pattern in (("presets", "*.json"), ("decks", "*.json"), ("images", "*.png")):
        files = shipped(folder, pattern)
        assert files
        assert {f"convviz_resources/{folder}/{f}" for f in files} <= names
    assert "convviz_resources/__init__.py" in names
    for data in ("lenet5_digits.npz", "lenet5_digits.json", "digit_samples.npz"):  # the trained LeNet-5
        assert f"convviz_resources/{data}" in names
    assert not [n for n in names if "screenshot" in n]
    # every module of the checkout is in the wheel (a package folder missing from pyproject is not)
    sources = {p.relative_to(ROOT).as_posix() for top in ("engine", "gui") for p in (ROOT / top).rglob("*.py")
               if "__pycache__" not in p.parts}
    assert sources <= names, f"missing from the wheel: {sorted(sources - names)}"
    assert meta["Name"] == "convviz"
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"
    assert "MIT License" in licence and "2026 convviz contributors" in licence
    requires = " ".join(meta.get_all("Requires-Dist") or [])
    for dep in ("PySide6-Essentials", "pyqtgraph", "numpy", "psygnal", "superqt"):
        assert dep in requires
    assert set(meta.get_all("Provides-Extra") or []) >= {"test", "dev", "export", "oracle", "train"}
    assert "convviz = gui.app:main" in entry_points


def _site_packages(venv: Path) -> Path:
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    return Path(purelib)


@pytest.mark.slow
def test_the_installed_wheel_runs_without_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py, site = venv / "bin" / "python", _site_packages(venv)
    assert site.is_dir()
    deps = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    (site / "_convviz_test_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    pip = [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "--quiet"]
    install = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr

    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(away))

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(argv, cwd=away, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    where = json.loads(run(str(py), "-I", "-c", (
        "import json, gui, convviz_resources, gui.models.resources as r; print(json.dumps(["
        "gui.__file__, convviz_resources.__file__, str(r.resources_root()), str(r.image_path('digit.png')),"
        "str(r.deck_path('conv-arithmetic'))]))")).stdout)
    for path in where:
        assert Path(path).is_relative_to(site), path
        assert not Path(path).is_relative_to(ROOT), path

    listed = run(str(venv / "bin" / "convviz"), "presets").stdout.splitlines()
    assert [line.split()[0] for line in listed] == preset_stems()
    assert len(listed) == 33 and not [line for line in listed if "damaged" in line]

    out = away / "OUT.png"
    convviz = str(venv / "bin" / "convviz")
    run(convviz, "export", "--preset", "conv-stride2", "--format", "png", "--out", str(out))
    assert out.read_bytes()[:8] == PNG_MAGIC

    read = run(convviz, "classify", str(SHIPPED / "images" / "digit.png"))  # the installed trained weights
    assert [line.split(": ")[0] for line in read.stdout.splitlines()] == [str(d) for d in range(10)]
    assert read.stderr == ""  # no "no trained weights are shipped"
