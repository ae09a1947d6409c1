"""The data folder holds call audio, transcripts and keys: only its owner may read it.

Processes that write there (``speechqa serve``, ``speechqa worker``, the API app) call
:func:`secure` first: files they create are 0600 and folders 0700 (umask 077, inherited by the
embedded redis-server), and what an earlier version left readable is closed: the folder itself
becomes 0700 (nobody else can reach anything below it) and the database and Redis files 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

from speechqa.settings import Settings


def secure(settings: Settings) -> None:
    os.umask(0o077)
    data = Path(settings.data_dir)
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    data.chmod(0o700)
    for folder in (data, data / "redis"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink():
                path.chmod(0o600)
