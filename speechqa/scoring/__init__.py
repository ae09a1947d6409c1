"""Scores: the one scoring step, stored evaluations (and which one counts), re-scoring."""

from speechqa.scoring.rescoring import rescore
from speechqa.scoring.step import Scored, score_calls, score_transcript

__all__ = ["Scored", "rescore", "score_calls", "score_transcript"]
