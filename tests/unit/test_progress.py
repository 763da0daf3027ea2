import io

from rich.console import Console

from shopify_bridge.observe.backfill_progress import BackfillProgress
from shopify_bridge.observe.progress import TerminalProgress


def test_terminal_progress_shows_each_phase_with_counts() -> None:
    out = io.StringIO()
    bar = TerminalProgress(Console(file=out, force_terminal=True, width=120))
    bar(BackfillProgress("Main", "running", "w", 120))
    bar(BackfillProgress("Main", "downloading", "w", 2048, 4096))
    bar(BackfillProgress("Main", "staging", "w", 300, 400))
    bar(BackfillProgress("Main", "ingesting", "w", 50, 100))
    bar(BackfillProgress("Main", "done", "w", 100, 100))
    text = out.getvalue()
    assert "storing orders" in text and "reading the result" in text and "300/400" in text
    assert "100/100" in text
    assert "downloading" in text
    assert not bar.started
