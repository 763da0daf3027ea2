"""The demo starts the simulator and the bridge, makes traffic, and stops cleanly after --duration."""

from __future__ import annotations

from pathlib import Path

from shopify_bridge.cli.demo import run_demo


async def test_headless_demo_runs_and_stops_after_its_duration(tmp_path: Path) -> None:
    lines: list[str] = []
    code = await run_demo(tmp_path, headless=True, duration=1.5, traffic_every=0.2, orders=5, print_line=lines.append)
    assert code == 0
    assert lines[0].startswith("simulator at http://127.0.0.1:")
    assert any(line.startswith("shop: ") for line in lines)
    assert (tmp_path / "demo.db").exists()
