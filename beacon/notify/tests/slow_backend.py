"""A test email backend standing in for a slow mail server.

Each message waits ``SLOW_MAIL_DELAY`` seconds (the "network"), then is written as one
file in ``SLOW_MAIL_DIR`` (atomically: written aside, then renamed). The crash test
kills the worker during these waits and counts the files.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = Path(os.environ["SLOW_MAIL_DIR"])
        delay = float(os.environ.get("SLOW_MAIL_DELAY", "0.05"))
        for message in email_messages:
            time.sleep(delay)
            message_id = str(message.extra_headers.get("Message-ID", "")).strip("<>")
            name = f"{message_id}--{uuid.uuid4().hex}.eml"
            temporary = folder / f".{name}.tmp"
            temporary.write_bytes(message.message().as_bytes())
            temporary.rename(folder / name)
        return len(email_messages)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
