"""Where `ioc` looks for the local home: IOC_HOME, else `.ioc` in the nearest project folder (no services)."""

from __future__ import annotations

from pathlib import Path

from cli.home import HomeSearch, project_folder, search_home


def _project(folder: Path, name: str = "daknong-ioc") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    return folder


def test_the_nearest_folder_holding_the_projects_pyproject_is_the_project(tmp_path: Path) -> None:
    project = _project(tmp_path / "clone")
    _project(project / "vendor" / "other", name="something-else")  # another project's marker is no marker
    (project / "broken").mkdir()
    (project / "broken" / "pyproject.toml").write_text("[project\nname = ")  # nor is one that is not TOML
    deep = project / "vendor" / "other" / "src"
    deep.mkdir()
    assert project_folder(deep) == project
    assert project_folder(project / "broken") == project
    assert project_folder(project) == project
    assert project_folder(tmp_path) is None


def test_ioc_home_wins_else_the_projects_dot_ioc_else_nowhere(tmp_path: Path) -> None:
    project = _project(tmp_path / "clone")
    assert search_home({"IOC_HOME": str(tmp_path / "mine")}, project) == HomeSearch(tmp_path / "mine", True, project)
    assert search_home({}, project / "docs") == HomeSearch(project / ".ioc", False, project / "docs")
    assert search_home({"IOC_HOME": ""}, project) == HomeSearch(project / ".ioc", False, project)
    nowhere = search_home({}, tmp_path)
    assert nowhere == HomeSearch(None, False, tmp_path)
    assert nowhere.where_it_looked() == (
        f"IOC_HOME is not set and neither {tmp_path} nor a folder above it holds the project"
        " (a pyproject.toml of daknong-ioc)"
    )
