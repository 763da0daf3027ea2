"""Re-record the test suite's VCR cassettes in `cassettes/` from the built-in Shopify simulator.

    .venv/bin/python scripts/record_cassettes.py            # rewrites cassettes/<scenario>.yaml
    .venv/bin/python scripts/record_cassettes.py --out DIR  # somewhere else (the freshness test does this)
    .venv/bin/python scripts/record_cassettes.py check      # only the named scenarios

Run it after changing a query in `shopify_bridge/shopify/queries.py` or the simulator's answers: the
tests in `tests/cassettes/` replay these files with record mode `none` and fail on any request the
cassette does not hold. Each scenario (see `tests/cassettes/scenarios.py`) gets a fresh simulator
with a fixed seed, a fixed canary token and a `ManualClock`, and the PII scrubber runs with a fixed
key, so recording twice gives identical files: a diff of `cassettes/` shows exactly what changed.

Cassettes recorded from a real shop come from `shopify-bridge check --record-cassette PATH` or
`shopify-bridge run --once --record-cassette PATH` instead; dropped into `cassettes/`, they are
replayed by the generic test as well.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the scenarios live in the test package
    sys.path.insert(0, str(REPO))

from shopify_bridge.shopify.cassette import vcr_config  # noqa: E402
from shopify_bridge.simulator.server import SimulatorServer  # noqa: E402
from tests.cassettes.scenarios import SCENARIOS, SCRUB_KEY, SEARCH_LAG, SEED, TOKEN, Harness  # noqa: E402

DEFAULT_OUT = REPO / "cassettes"


async def record(name: str, out_dir: Path) -> Path:
    """Run one scenario against a fresh simulator, recording a new `out_dir/<name>.yaml`."""
    target = out_dir / f"{name}.yaml"
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"cassette-{name}-") as workdir:
        harness = Harness(api_url="", workdir=Path(workdir))
        # Kind on purpose: a cassette pins the wire shapes of one scenario; a drawn lag or another app's
        # throttling would only add noise to them (the harsh shop has its own tests).
        sim = SimulatorServer(
            token=TOKEN, seed=SEED, orders=0, clock=harness.clock, search_lag_seconds=SEARCH_LAG,
            competing_app_share=0,
        )
        async with sim:
            harness.api_url = sim.url
            harness.shop = sim.state
            with vcr_config("all", scrub_key=SCRUB_KEY).use_cassette(str(target)):
                await SCENARIOS[name](harness)
    return target


async def record_all(out_dir: Path, names: list[str] | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [await record(name, out_dir) for name in names or list(SCENARIOS)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help=f"default: all of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"directory (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    for path in asyncio.run(record_all(args.out, args.scenarios or None)):
        print(f"recorded {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
