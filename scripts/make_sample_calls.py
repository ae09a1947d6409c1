"""Write realistic two-party sample calls with Debian's espeak-ng, plus their reference text.

Each call is a stereo 8 kHz 16-bit WAV: the agent on the left channel, the customer on the
right, as a contact-center recorder stores them. The script has greetings, a problem, pauses,
a hold, an interruption (overlapping speech), a resolution and a closing. Beside each WAV a JSON
file holds the reference: every turn with its speaker, start, end and text.

    python scripts/make_sample_calls.py examples/

Calls kept aside for tests (``TEST_CALLS``, not among the samples the README analyses) are written
with ``--test``:

    python scripts/make_sample_calls.py tests/data/ --test
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

RATE = 8000
VOICES = {"agent": ("en-gb-x-rp", 140), "customer": ("en-us+f5", 140)}


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    gap: float = 0.6
    """Seconds of silence before the turn; negative starts it before the last turn ends."""


@dataclass
class PlacedTurn:
    speaker: str
    start: float
    end: float
    text: str


CALLS: dict[str, list[Turn]] = {
    "billing_refund": [
        Turn(
            "agent",
            "Thank you for calling Acme Telecom, my name is Sarah. How can I help you today?",
            0.8,
        ),
        Turn(
            "customer",
            "Hi. I was charged twice for my phone bill this month and I am really not happy about it.",
        ),
        Turn(
            "agent",
            "I am sorry to hear that. I understand how frustrating that is. Can I have your account number please?",
        ),
        Turn("customer", "Sure, it is four five six seven eight nine."),
        Turn(
            "agent",
            "Thank you. Let me check that for you. Could you please hold for a moment?",
            0.7,
        ),
        Turn("customer", "Okay.", 0.4),
        Turn(
            "agent", "Thank you for holding. I can see the duplicate charge of forty dollars.", 4.5
        ),
        Turn("customer", "So will I get my money back?", -0.6),
        Turn(
            "agent",
            "Yes, I have issued a refund. You will see it within three to five business days.",
        ),
        Turn("customer", "That is great, thank you so much for your help."),
        Turn("agent", "You are welcome. Is there anything else I can help you with today?"),
        Turn("customer", "No, that is all. Thanks."),
        Turn("agent", "Thank you for calling Acme Telecom. Have a great day. Goodbye."),
    ],
    "internet_outage": [
        Turn(
            "agent",
            "Good morning, this is Mark from Acme Internet support. How may I help you?",
            1.0,
        ),
        Turn(
            "customer",
            "My internet has been down since yesterday and I work from home. This is terrible.",
        ),
        Turn(
            "agent",
            "I apologize for the trouble. I will do my best to fix this quickly. May I have your name and address?",
        ),
        Turn("customer", "John Smith, twelve Oak Street."),
        Turn("agent", "Thank you, Mister Smith. I can see an outage in your area."),
        Turn("customer", "How long will it take?", -0.5),
        Turn(
            "agent",
            "Our technicians are working on it. It should be fixed by five o'clock today.",
            0.7,
        ),
        Turn("customer", "Alright. Can you give me a credit for the lost day?", 1.8),
        Turn("agent", "Certainly. I have added a credit of ten dollars to your account."),
        Turn("customer", "Okay, thank you. I appreciate it."),
        Turn("agent", "Is there anything else I can do for you?"),
        Turn("customer", "No, thank you. Bye."),
        Turn("agent", "Thank you for your patience. Have a nice day."),
    ],
    "angry_to_satisfied": [
        Turn("agent", "Thank you for calling Acme Shop, my name is Emma. How can I help you?", 0.7),
        Turn(
            "customer",
            "This is ridiculous. I have waited two weeks and my order still has not arrived. I am furious.",
        ),
        Turn(
            "agent",
            "I am very sorry about that. I understand how frustrating this is. May I have your order number?",
        ),
        Turn(
            "customer",
            "It is seven seven one two. And nobody answered my emails. This is terrible service.",
        ),
        Turn("agent", "Thank you. Please bear with me for a moment while I check.", 0.6),
        Turn(
            "agent",
            "Thank you for waiting. Your parcel was lost by the courier. I have sent a new one by express delivery, free of charge.",
            4.0,
        ),
        Turn("customer", "Oh, okay. When will it arrive?"),
        Turn("agent", "It will arrive tomorrow morning, and I have refunded your shipping costs."),
        Turn("customer", "That is wonderful. Thank you so much, I really appreciate your help."),
        Turn("agent", "You are welcome. Is there anything else I can help you with?"),
        Turn("customer", "No, that is all. You have been great. Have a lovely day."),
        Turn("agent", "Thank you for calling Acme Shop. Goodbye."),
    ],
    "address_change": [
        Turn(
            "agent", "Hello, thank you for calling Acme Bank. My name is Lisa. How can I help?", 0.6
        ),
        Turn("customer", "Hello. I moved last week and I need to change my address."),
        Turn("agent", "Of course. For security, can you confirm your date of birth?"),
        Turn("customer", "March third, nineteen eighty."),
        Turn("agent", "Thank you. What is the new address?"),
        Turn("customer", "Forty two Maple Avenue, Springfield.", 1.2),
        Turn(
            "agent",
            "I have updated your address to forty two Maple Avenue. Is there anything else?",
        ),
        Turn("customer", "No, that is everything. Thank you."),
        Turn("agent", "You are welcome. Thank you for banking with Acme. Goodbye."),
    ],
    "card_payment": [
        Turn("agent", "Thank you for calling Acme Energy, this is Tom. How can I help?", 0.6),
        Turn("customer", "Hello. I would like to pay my bill by card."),
        Turn("agent", "Of course. Can I have the long card number please?"),
        Turn(
            "customer",
            "Yes, it is four five three nine, one four eight eight, zero three four three, "
            "six four six seven.",
        ),
        Turn("agent", "Thank you. And what is your account number?"),
        Turn("customer", "My account number is eight seven six five four three two one."),
        Turn("agent", "For security, can you confirm your date of birth?"),
        Turn("customer", "The fourteenth of July, nineteen eighty five."),
        Turn("agent", "Which email address should we send the receipt to?"),
        Turn("customer", "Maria dot lopez at example dot com."),
        Turn("agent", "Thank you. The payment of sixty dollars is done. Goodbye."),
    ],
}
"""``card_payment`` has a customer read out a card number, account number, date of birth and
e-mail address: redaction's end-to-end test checks none of them is stored in the clear."""

TEST_CALLS: dict[str, list[Turn]] = {
    "card_expiry": [
        Turn("agent", "Thank you for calling Acme Energy, this is Tom. How can I help?", 0.6),
        Turn("customer", "Hi. I would like to pay my bill with a new card."),
        Turn("agent", "Of course. Can I have the long card number please?"),
        Turn(
            "customer",
            "Yes, it is four five five six, seven three seven five, eight six eight nine, "
            "nine eight five five.",
        ),
        Turn("agent", "Thank you. And when does the card expire?"),
        Turn("customer", "The expiry is oh nine twenty eight."),
        Turn("agent", "For security, can you confirm your date of birth?"),
        Turn("customer", "My date of birth is the fourteenth of March nineteen eighty five."),
        Turn("agent", "Thank you. The payment of forty dollars is done. Goodbye."),
    ],
}
"""Kept aside in ``tests/data``: a customer reads out a card number, its expiry and a date of
birth, for redaction's tests of the text and of the silenced copy (the first digit's onset)."""


def speak(text: str, speaker: str, workdir: Path) -> np.ndarray:
    """Render one turn with espeak-ng and return it as 8 kHz float32 samples."""
    voice, speed = VOICES[speaker]
    wav = workdir / "turn.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
        check=True,
        capture_output=True,
    )
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks: list[np.ndarray] = []
    with av.open(str(wav)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    # espeak-ng pads each utterance with silence; trim it so timings mean speech.
    voiced = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[voiced[0] : voiced[-1] + 1] if voiced.size else samples


def render(turns: list[Turn], workdir: Path) -> tuple[np.ndarray, list[PlacedTurn]]:
    """Place the turns on a timeline, agent left and customer right; return (stereo, turns)."""
    placed: list[PlacedTurn] = []
    clips: list[tuple[int, np.ndarray]] = []
    cursor = 0.0
    for turn in turns:
        samples = speak(turn.text, turn.speaker, workdir)
        start = max(0.0, cursor + turn.gap)
        end = start + len(samples) / RATE
        placed.append(PlacedTurn(turn.speaker, round(start, 3), round(end, 3), turn.text))
        clips.append((0 if turn.speaker == "agent" else 1, samples))
        cursor = max(cursor, end)
    total = int((cursor + 1.0) * RATE)
    stereo = np.zeros((2, total), dtype=np.float32)
    for (channel, samples), p in zip(clips, placed, strict=True):
        at = int(p.start * RATE)
        stereo[channel, at : at + len(samples)] += samples
    # A quiet line-noise floor, as on a real phone line, so silence is not digital zero.
    rng = np.random.default_rng(7)
    stereo += rng.normal(0, 0.002, stereo.shape).astype(np.float32)
    return np.clip(stereo, -1, 1), placed


def write_wav(path: Path, stereo: np.ndarray) -> None:
    pcm = (stereo * 32767).astype(np.int16)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            pcm.T.reshape(1, -1).copy(), format="s16", layout="stereo"
        )
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# Who took each sample call, in which team, and when (days before the run, UTC time of day):
# `speechqa serve --samples` sends these, so the dashboards and queues have agents, two teams and
# days to show.
METADATA: dict[str, dict[str, str | int]] = {
    "billing_refund": {
        "agent_id": "a-17",
        "agent_name": "Sarah",
        "team": "billing",
        "days_ago": 1,
        "time": "09:14",
    },
    "card_payment": {
        "agent_id": "a-18",
        "agent_name": "Tom",
        "team": "billing",
        "days_ago": 2,
        "time": "16:12",
    },
    "address_change": {
        "agent_id": "a-19",
        "agent_name": "Lisa",
        "team": "billing",
        "days_ago": 4,
        "time": "11:30",
    },
    "internet_outage": {
        "agent_id": "a-30",
        "agent_name": "Mark",
        "team": "support",
        "days_ago": 3,
        "time": "08:05",
    },
    "angry_to_satisfied": {
        "agent_id": "a-31",
        "agent_name": "Emma",
        "team": "support",
        "days_ago": 6,
        "time": "14:45",
    },
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--only", nargs="*", help="names of the calls to write")
    parser.add_argument("--test", action="store_true", help="write the calls kept for tests")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (Debian: apt-get install espeak-ng)", file=sys.stderr)
        return 2
    args.outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, turns in (TEST_CALLS if args.test else CALLS).items():
            if args.only and name not in args.only:
                continue
            stereo, placed = render(turns, Path(tmp))
            write_wav(args.outdir / f"{name}.wav", stereo)
            reference = {
                "audio": f"{name}.wav",
                "sample_rate": RATE,
                "channels": {"left": "agent", "right": "customer"},
                "duration_s": round(stereo.shape[1] / RATE, 3),
                **({"metadata": METADATA[name]} if name in METADATA else {}),
                "turns": [asdict(p) for p in placed],
            }
            (args.outdir / f"{name}.json").write_text(json.dumps(reference, indent=2) + "\n")
            print(f"{name}: {reference['duration_s']:.1f} s, {len(placed)} turns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
