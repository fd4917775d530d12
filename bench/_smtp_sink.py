"""An SMTP server that counts and discards what it receives: the far end of the benchmarks.

Runs in its own process so that the sender under test does not share an interpreter (or a GIL)
with the server it talks to, as in production where the relay is another machine.

    python bench/_smtp_sink.py --port 2525

prints ``ready <port>`` once it accepts connections, then answers commands on stdin, one per
line: ``count`` prints a JSON object (messages, distinct Message-IDs, duplicates, bytes);
end of input stops the server.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


class CountingHandler:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages = 0
        self.bytes = 0
        self.without_id = 0
        self.duplicates = 0
        self.ids: set[bytes] = set()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        head = data[: data.find(b"\r\n\r\n")]
        found = _MESSAGE_ID.search(head)
        with self._lock:
            self.messages += 1
            self.bytes += len(data)
            if found is None:
                self.without_id += 1
            elif found.group(1) in self.ids:
                self.duplicates += 1
            else:
                self.ids.add(found.group(1))
        return "250 OK"

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "messages": self.messages,
                "message_ids": len(self.ids),
                "duplicates": self.duplicates,
                "without_message_id": self.without_id,
                "bytes": self.bytes,
            }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    handler = CountingHandler()
    controller = Controller(handler, hostname=args.host, port=args.port)
    controller.start()
    print(f"ready {args.port}", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "count":
                print(json.dumps(handler.snapshot()), flush=True)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
