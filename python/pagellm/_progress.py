"""Progress display for LLM.generate(use_tqdm=True): tqdm when installed, else a plain text
bar on stderr (redrawn at most ~10 times a second)."""

import sys
import time


class _TextBar:
    def __init__(self, total, desc):
        self.total = total
        self.desc = desc
        self.n = 0
        self.start = time.monotonic()
        self.last_draw = 0.0

    def update(self, k):
        self.n += k
        now = time.monotonic()
        if now - self.last_draw >= 0.1 or self.n >= self.total:
            self.last_draw = now
            self._draw(now)

    def _draw(self, now):
        width = 30
        filled = int(width * self.n / max(self.total, 1))
        elapsed = now - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} "
                         f"[{'#' * filled}{'.' * (width - filled)}] {elapsed:.1f}s {rate:.2f} it/s")
        sys.stderr.flush()

    def close(self):
        if self.n < self.total:
            self._draw(time.monotonic())
        sys.stderr.write("\n")
        sys.stderr.flush()


def make_progress(total, enabled, desc="Processed prompts"):
    """Returns (callback(done, total) or None, close()). `enabled`: bool, or a tqdm-like class."""
    if not enabled or total == 0:
        return None, lambda: None
    if callable(enabled):  # vLLM also takes a tqdm-like class
        bar = enabled(total=total, desc=desc)
    else:
        try:
            from tqdm.auto import tqdm
            bar = tqdm(total=total, desc=desc, dynamic_ncols=True)
        except ImportError:
            bar = _TextBar(total, desc)
    state = {"done": 0}

    def callback(done, _total):
        if done > state["done"]:
            bar.update(done - state["done"])
            state["done"] = done

    return callback, bar.close
