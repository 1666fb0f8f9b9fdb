"""The documentation cannot rot: every ```python block of README.md, docs/*.md and saved_models/README.md runs,
and docs/cli.md lists exactly the flags of `keras-gan train --help`.

The blocks of one page run in order in one namespace (a later block uses what an
earlier one built), in a temporary folder holding a copy of `saved_models/` and a
`my_images/` folder of small PNGs (the README's "your own images"). They make the
same calls as written, with training kept small by the `small_runs` fixture:
every Keras `fit` (GAN, pix2pix, CycleGAN, and what they call) runs at most one
epoch of two steps, and `RejectionSampler.fit` at most 20 steps. A block whose
fence reads ```python no-run is shown, not run: only those that need a server.
"""

import inspect
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

import keras
import keras_gan
from keras_gan import cli
from keras_gan.rejection import RejectionSampler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md", "saved_models/README.md"] + sorted(os.path.join("docs", n) for n in os.listdir(os.path.join(ROOT, "docs"))
                               if n.endswith(".md"))
_FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.S | re.M)


def python_blocks(page):
    """`(info, code, line)` of every ```python block of `page`."""
    with open(os.path.join(ROOT, page)) as f:
        text = f.read()
    return [(m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]


@pytest.fixture
def small_runs(monkeypatch):
    keras_fit = keras.Model.fit
    parameters = inspect.signature(keras_fit).parameters

    def fit(self, *args, **kwargs):
        bound = inspect.signature(keras_fit).bind(self, *args, **kwargs).arguments
        start = bound.get("initial_epoch", parameters["initial_epoch"].default)
        bound["epochs"] = min(bound.get("epochs", 1), start + 1)
        bound["steps_per_epoch"] = min(bound.get("steps_per_epoch") or 2, 2)
        return keras_fit(**bound)

    sampler_fit = RejectionSampler.fit

    def fit_sampler(self, x, steps=3000, burn_in=10000, **kwargs):
        return sampler_fit(self, x, steps=min(steps, 20), burn_in=min(burn_in, 500), **kwargs)

    monkeypatch.setattr(keras.Model, "fit", fit)
    monkeypatch.setattr(RejectionSampler, "fit", fit_sampler)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copytree(os.path.join(ROOT, "saved_models"), tmp_path / "saved_models")
    rng = np.random.default_rng(0)
    (tmp_path / "my_images").mkdir()
    for i in range(8):
        pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / "my_images" / f"{i}.png")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_of_the_page_runs(page, small_runs, workdir):
    blocks = python_blocks(page)
    no_run = [line for info, _, line in blocks if info == "no-run"]
    assert len(no_run) <= 3, f"{page}: too many no-run blocks (lines {no_run}); run them or move them"
    namespace = {"__name__": "__docs__"}
    try:
        for info, code, line in blocks:
            assert info in ("", "no-run"), f"{page}:{line}: unknown fence info {info!r}"
            if info == "no-run":
                continue
            try:
                exec(compile(code, f"{page}:{line}", "exec"), namespace)
            except Exception as e:
                raise AssertionError(f"the block at {page}:{line} failed: {type(e).__name__}: {e}") from e
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _train_flags():
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    return {s for action in train._actions for s in action.option_strings if s.startswith("--") and s != "--help"}


def _documented_flags():
    with open(os.path.join(ROOT, "docs", "cli.md")) as f:
        text = f.read()
    section = text.split("## keras-gan train", 1)[1].split("\n## ", 1)[0]
    return {flag for cell in re.findall(r"^\| *([^|]+)\|", section, re.M) for flag in re.findall(r"--[a-z][a-z0-9-]*", cell)}


def test_cli_md_lists_exactly_the_flags_of_keras_gan_train():
    flags, documented = _train_flags(), _documented_flags()
    assert flags - documented == set(), f"flags of `keras-gan train` missing from docs/cli.md: {flags - documented}"
    assert documented - flags == set(), f"docs/cli.md lists flags `keras-gan train` lacks: {documented - flags}"


def test_the_docs_link_only_to_files_that_exist():
    for page in PAGES:
        with open(os.path.join(ROOT, page)) as f:
            prose = re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", f.read(), flags=re.S | re.M))
        links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose)
        for link in links:
            if link.startswith("http") or link == "docs/stylegan2.md" or link == "stylegan2.md":
                continue  # the StyleGAN2 page is written with its network
            target = os.path.normpath(os.path.join(ROOT, os.path.dirname(page), link))
            assert os.path.exists(target), f"{page} links to a missing {link}"
