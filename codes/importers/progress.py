"""Progress for long imports: a redrawn bar with rate and time left on a terminal, and plain
periodic lines elsewhere (CI logs, cron mail), where carriage returns would only make noise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 28
TERMINAL_REDRAW_SECONDS = 0.1
PLAIN_LINE_SECONDS = 5.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    """One phase of work over a known number of units (lines, bytes, rows)."""

    def __init__(
        self,
        stream: TextIO | None,
        label: str,
        total: int,
        *,
        unit: str,
        terminal: bool,
        clock: Callable[[], float] = time.monotonic,
        plain_every: float = PLAIN_LINE_SECONDS,
    ) -> None:
        self.stream, self.label, self.total, self.unit = stream, label, max(total, 0), unit
        self.terminal, self.clock, self.plain_every = terminal, clock, plain_every
        self.done = 0
        self.started = self.last_shown = clock()
        self.finished = False

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self.stream is None:
            return
        now = self.clock()
        interval = TERMINAL_REDRAW_SECONDS if self.terminal else self.plain_every
        if now - self.last_shown >= interval:
            self.last_shown = now
            self._show(now)

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.stream is None:
            return
        now = self.clock()
        elapsed = now - self.started
        if self.terminal:
            self.done = max(self.done, self.total)
            self._show(now, finished=True)
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label}: {self.done:,} {self.unit} in {elapsed:.1f} s\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finish()

    def _rate(self, now: float) -> float:
        elapsed = now - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def _show(self, now: float, *, finished: bool = False) -> None:
        rate = self._rate(now)
        if not self.total:  # a stream of unknown length: how far, how fast
            end = "" if self.terminal else "\n"
            start = "\r" if self.terminal else ""
            clear = " \x1b[K" if self.terminal else ""
            self.stream.write(
                f"{start}{self.label}: {self.done:,} {self.unit}, {rate:,.0f}/s{clear}{end}"
            )
            self.stream.flush()
            return
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        left = (self.total - self.done) / rate if rate and self.total > self.done else 0.0
        if self.terminal:
            filled = int(fraction * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            timing = (
                f"done in {_duration(now - self.started)}"
                if finished
                else (f"{_duration(left)} left")
            )
            self.stream.write(
                f"\r{self.label} [{bar}] {fraction:4.0%} {self.done:,}/{self.total:,} {self.unit}"
                f"  {rate:,.0f} {self.unit}/s  {timing} \x1b[K"
            )
        else:
            self.stream.write(
                f"{self.label}: {fraction:.0%} ({self.done:,} of {self.total:,} {self.unit}, "
                f"{rate:,.0f}/s, about {_duration(left)} left)\n"
            )
        self.stream.flush()


class ProgressFactory:
    """Makes a Progress per phase, all on one stream; silent when there is no stream."""

    def __init__(
        self,
        stream: TextIO | None,
        *,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        plain_every: float = PLAIN_LINE_SECONDS,
    ) -> None:
        self.stream = stream
        if terminal is None:
            isatty = getattr(stream, "isatty", None)
            terminal = bool(isatty and isatty())
        self.terminal, self.clock, self.plain_every = terminal, clock, plain_every

    def __call__(self, label: str, total: int, *, unit: str) -> Progress:
        return Progress(
            self.stream,
            label,
            total,
            unit=unit,
            terminal=self.terminal,
            clock=self.clock,
            plain_every=self.plain_every,
        )


SILENT = ProgressFactory(None, terminal=False)
