"""Stop strings: cut the output at the first stop sequence, holding back partial matches."""

from __future__ import annotations


class StopMatcher:
    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Returns the text that is safe to emit now."""
        if self.stopped or not text:
            return ""
        if not self.stops:
            return text
        buf = self._held + text
        cut = -1
        for stop in self.stops:
            i = buf.find(stop)
            if i >= 0 and (cut < 0 or i < cut):
                cut = i
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return buf[:cut]
        keep = 0
        for stop in self.stops:
            n = _partial_tail(buf, stop)
            if n > keep:
                keep = n
        self._held = buf[len(buf) - keep :] if keep else ""
        return buf[: len(buf) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if self.stopped else held


def _partial_tail(buf: str, stop: str) -> int:
    """Length of the longest end of ``buf`` that is a proper prefix of ``stop``.

    A partial match starts with ``stop[0]`` within the last ``len(stop) - 1`` characters, so
    only those positions are tried (``str.find`` does the scanning).
    """
    first = stop[0]
    i = buf.find(first, max(0, len(buf) - len(stop) + 1))
    while i >= 0:
        if stop.startswith(buf[i:]):
            return len(buf) - i
        i = buf.find(first, i + 1)
    return 0
