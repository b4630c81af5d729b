"""The JSON Lines export: one record per page, as ``CONTRACT.md`` describes, streamed.

Records are read from the store a chunk at a time and written one line each, so memory
stays flat whatever the site's size. It writes to any text stream; ``export`` gives it
a temporary file and keeps it only when the bytes changed.
"""

from __future__ import annotations

import json
from typing import TextIO

from migrator.load import Store

__all__ = ["write_jsonl"]


def write_jsonl(store: Store, stream: TextIO) -> int:
    """Write every live page's record as one JSON object per line.

    Returns:
        How many records were written.
    """
    count = 0
    for record in store.iter_records():
        stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        stream.write("\n")
        count += 1
    return count
