"""The planners' notebooks: committed without outputs, and each runs top to bottom on the sample (a failing
cell fails the test)."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_tien_do.ipynb",
        "02_du_bao.ipynb",
        "03_kich_ban.ipynb",
        "04_kiem_dinh.ipynb",
        "05_tong_ket.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped_in_git(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: outputs committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_sample(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    assert 'DB = "nongthon.db"' in nb.cells[1].source  # the database path in the first code cell
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert images >= 1, "every notebook draws at least one chart"
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "DỮ LIỆU MẪU" in text  # the sample is labelled as sample
    assert (tmp_path / "nongthon.db").exists()
