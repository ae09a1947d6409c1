"""The sample-call generator writes the committed examples (Debian's espeak-ng speaks)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from speechqa.pipeline import audio
from tests.support import EXAMPLES, IN_CI, ROOT


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        if IN_CI:
            pytest.fail("espeak-ng is missing: scripts/system-deps.sh installs it")
        pytest.skip("espeak-ng is not installed (scripts/system-deps.sh installs it)")
    out = tmp_path_factory.mktemp("calls")
    subprocess.run(
        [sys.executable, "scripts/make_sample_calls.py", str(out), "--only", "address_change"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return out


def test_generated_call_matches_the_committed_reference(generated):
    ref = json.loads((generated / "address_change.json").read_text())
    committed = json.loads((EXAMPLES / "address_change.json").read_text())
    assert [t["text"] for t in ref["turns"]] == [t["text"] for t in committed["turns"]]
    assert ref["duration_s"] == pytest.approx(committed["duration_s"], rel=0.05)


def test_the_call_kept_for_tests_is_regenerated_from_the_script(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/system-deps.sh installs it)")
    subprocess.run(
        [sys.executable, "scripts/make_sample_calls.py", str(tmp_path), "--test"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card_expiry.json", "card_expiry.wav"]
    ref = json.loads((tmp_path / "card_expiry.json").read_text())
    committed = json.loads((ROOT / "tests" / "data" / "card_expiry.json").read_text())
    assert [(t["speaker"], t["text"]) for t in ref["turns"]] == [
        (t["speaker"], t["text"]) for t in committed["turns"]
    ]
    assert ref["duration_s"] == pytest.approx(committed["duration_s"], rel=0.05)
    assert not (EXAMPLES / "card_expiry.json").exists()  # not among the samples


def test_generated_call_is_two_party_stereo_telephone_audio(generated):
    ref = json.loads((generated / "address_change.json").read_text())
    info = audio.probe(generated / "address_change.wav")
    assert (info.sample_rate, info.channels) == (8000, 2)
    decoded = audio.decode(generated / "address_change.wav")
    left, right = decoded.channels
    turns = ref["turns"]
    for turn in turns:
        span = slice(int(turn["start"] * 16000), int(turn["end"] * 16000))
        speaking, other = (left, right) if turn["speaker"] == "agent" else (right, left)
        assert np.abs(speaking[span]).mean() > 0.01, turn
        crossed = any(
            t["speaker"] != turn["speaker"]
            and t["start"] < turn["end"]
            and turn["start"] < t["end"]
            for t in turns
        )
        if not crossed:  # each voice is on its own channel; the other line carries only hiss
            assert np.abs(other[span]).mean() < 0.005, turn


def test_committed_examples_have_an_interruption_and_a_hold():
    ref = json.loads((EXAMPLES / "billing_refund.json").read_text())
    turns = ref["turns"]
    gaps = [b["start"] - a["end"] for a, b in itertools.pairwise(turns)]
    assert min(gaps) < 0, "an interruption: a turn starts before the previous one ends"
    assert max(gaps) > 3, "a hold: a long silence"
