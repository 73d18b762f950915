"""Executes every notebook under notebooks/ headless (nbclient, a python3 kernel on this interpreter) and checks
that no cell errors, plus a few outputs of each notebook.

The notebooks are committed with their outputs (`python notebooks/execute.py` refreshes them), so that a reader
sees the IR, LLVM and assembly dumps without running anything; the test executes copies in memory and never writes
them back.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

_REASON = "executing notebooks needs nbformat, nbclient and ipykernel (pip install -e '.[test]')"
nbformat = pytest.importorskip("nbformat", reason=_REASON)
nbclient = pytest.importorskip("nbclient", reason=_REASON)
nbclient_exceptions = pytest.importorskip("nbclient.exceptions", reason=_REASON)
ipykernel_kernelspec = pytest.importorskip("ipykernel.kernelspec", reason=_REASON)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; compiling a function takes about a second
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def run_notebook(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Returns `run(name) -> executed notebook`, executing each notebook at most once per module."""
    # A kernelspec named python3 that starts this interpreter, found first through JUPYTER_PATH, so the kernel
    # sees the packages of the interpreter running pytest whatever other python3 kernels are installed.
    jupyter_dir = tmp_path_factory.mktemp("jupyter")
    ipykernel_kernelspec.write_kernel_spec(str(jupyter_dir / "kernels" / "python3"))
    executed: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [str(jupyter_dir), os.environ.get("JUPYTER_PATH")])))
        # `import engine` in the kernel finds this checkout whether or not Kiln is installed.
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

        def run(name: str) -> Any:
            if name not in executed:  # a notebook that fails is not executed again by the next test
                nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
                client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                                 resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
                error = None
                try:
                    client.execute()
                except nbclient_exceptions.CellExecutionError as e:
                    error = _ANSI.sub("", str(e))
                executed[name] = (nb, error)
            nb, error = executed[name]
            if error is not None:
                pytest.fail(f"{name}: a cell raised\n{error}", pytrace=False)
            return nb

        yield run


def _text(cell: Any) -> str:
    """The text a code cell showed: its streams and the plain-text form of its results."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def _tagged(nb: Any, tag: str) -> Any:
    cells = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0]


def test_the_notebooks_are_there() -> None:
    for name in ("01_tracing_and_ir.ipynb", "02_codegen.ipynb", "03_autodiff.ipynb", "04_autograph.ipynb",
                 "05_keras_mnist.ipynb", "06_performance.ipynb"):
        assert name in NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_with_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    missing = [c.source[:40] for c in code if c.execution_count is None]
    assert not missing, f"{name}: run `python notebooks/execute.py {name}` before committing ({missing[:3]})"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: a stored output is an error: {errors[0].ename}: {errors[0].evalue}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_without_errors(name: str, run_notebook: Callable[[str], Any]) -> None:
    nb = run_notebook(name)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{name}: {out.ename}: {out.evalue}\nin cell:\n{cell.source}"


def test_tracing_and_ir(run_notebook: Callable[[str], Any]) -> None:
    nb = run_notebook("01_tracing_and_ir.ipynb")
    lines = _text(_tagged(nb, "roundtrip")).split()
    assert lines and lines[1::2] == ["True"] * (len(lines) // 2), lines

    retracing = _text(_tagged(nb, "retracing"))
    assert retracing.count("tracing scaled for") == 3, retracing
    assert retracing.count("running scaled") == 4, retracing
    assert "tracing count: 3" in retracing

    html = [out.data["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
            if out.output_type == "execute_result" and "text/html" in out.data]
    assert html and all("<pre" in h for h in html)
    assert any("while_loop" in h for h in html)


def test_codegen(run_notebook: Callable[[str], Any]) -> None:
    nb = run_notebook("02_codegen.ipynb")
    assert re.search(r"<(8|16) x float>", _text(_tagged(nb, "llvm")))
    asm = _text(_tagged(nb, "asm"))
    assert "zmm" in asm or "ymm" in asm, asm
    assert "µs per call" in "".join(_text(c) for c in nb.cells if c.cell_type == "code")


def test_autograph(run_notebook: Callable[[str], Any]) -> None:
    nb = run_notebook("04_autograph.ipynb")
    collatz_ir = _text(_tagged(nb, "collatz_ir"))
    assert re.search(r"= cond ", collatz_ir) and re.search(r"= while_loop ", collatz_ir), collatz_ir
    for tag in ("collatz_check", "newton_check", "powers_check"):
        text = _text(_tagged(nb, tag))
        assert "same as plain Python: True" in text, text
    assert "traced 1 time(s)" in _text(_tagged(nb, "collatz_check"))
    assert "close to np.sqrt: True" in _text(_tagged(nb, "newton_check"))


def test_keras_mnist(run_notebook: Callable[[str], Any]) -> None:
    nb = run_notebook("05_keras_mnist.ipynb")
    summary = _text(_tagged(nb, "summary"))
    assert "Total params: 101,770" in summary
    train = _text(_tagged(nb, "train"))
    epochs = [float(x) for x in re.findall(r"Epoch \d, Loss: ([0-9.]+)", train)]
    assert len(epochs) == 3 and epochs[-1] < epochs[0], train
    assert float(re.search(r"Test accuracy: ([0-9.]+)", train).group(1)) > 0.5
    ir = _text(_tagged(nb, "ir"))
    assert "traced 2 times" in ir and "matmul" in ir
    fit = _text(_tagged(nb, "fit"))
    assert "Epoch 2/2" in fit and "same predictions: True" in fit
    assert "config.json" in fit and "model.weights.npz" in fit


def test_performance(run_notebook: Callable[[str], Any]) -> None:
    nb = run_notebook("06_performance.ipynb")
    ratios = _text(_tagged(nb, "ratios"))
    for workload in ("reduce_sum", "matmul", "mlp_step_256", "call_overhead"):
        assert workload in ratios, ratios
    for tag in ("bars", "roofline"):
        images = [o for o in _tagged(nb, tag).outputs if o.output_type == "display_data" and "image/png" in o.data]
        assert len(images) == 1, tag
    assert "reduce_sum" in _text(_tagged(nb, "roofline"))
    table = _text(_tagged(nb, "profile"))
    assert "train_step(f32[256, 784], i32[256]" in table and "matmul" in table
    assert re.search(r"^train_step\(.*\)\s+20\s", table, re.M), table  # the 20 calls made
    assert "20 calls" in _text(_tagged(nb, "trace"))
