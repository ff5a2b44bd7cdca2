"""What the servers the tests start themselves share (tests/postgres_server.py, tests/redis_server.py)."""
from __future__ import annotations


class ThrowawayServer:
    """`with Server() as server:` starts it and always cleans up, even after a failed start.
    A subclass implements `start()` (returning itself) and `close()` (stop, delete its files)."""

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()
