"""Every cassette in `cassettes/` — the suite's and any an operator drops in — is safe to share and replays.

"Safe": no access token, no token header, no customer email that is not a placeholder. "Replays": each
recorded request, sent again through `ShopifyClient` with record mode `none`, gets its recorded answer.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from shopify_bridge.shopify.cassette import SIMULATOR_ORIGIN, LiteralYaml
from tests.cassettes.replay import CASSETTES, RECORD_HINT, replay_every_request
from tests.cassettes.scenarios import REVOKED_TOKEN, SCENARIOS, TOKEN

FILES = sorted(CASSETTES.glob("*.yaml")) + sorted(CASSETTES.glob("*.yml"))
SHOPIFY_TOKEN = re.compile(
    r"\bshp(?:at|ca|pa|ss)_[0-9A-Za-z_]+"
)  # Admin, custom-app, private-app, shared secret
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
ids = [path.name for path in FILES]


def test_every_scenario_has_its_cassette() -> None:
    missing = [name for name in SCENARIOS if not (CASSETTES / f"{name}.yaml").exists()]
    assert missing == [], f"missing cassettes {missing}; {RECORD_HINT}"


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_no_token_and_no_token_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text and REVOKED_TOKEN not in text
    assert SHOPIFY_TOKEN.findall(text) == []
    assert "x-shopify-access-token" not in text.lower()


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_every_email_is_a_placeholder(path: Path) -> None:
    found = set(EMAIL.findall(path.read_text(encoding="utf-8")))
    assert {email for email in found if not email.endswith("@example.invalid")} == set()


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_loads_as_a_cassette(path: Path) -> None:
    data = LiteralYaml.deserialize(path.read_text(encoding="utf-8"))
    assert data["interactions"], f"{path.name} holds no interactions"
    for interaction in data["interactions"]:
        assert {"method", "uri"} <= interaction["request"].keys()
        assert "code" in interaction["response"]["status"]


@pytest.mark.parametrize("path", FILES, ids=ids)
async def test_every_recorded_request_is_served_again(path: Path) -> None:
    served = await replay_every_request(path)
    assert served
    for one in served:
        recorded = one.recorded if isinstance(one.recorded, dict) else {}
        if recorded.get("data") is not None and not recorded.get("errors"):
            assert one.data == recorded["data"], f"{path.name} #{one.index} {one.operation}"


def _recorder() -> ModuleType:
    script = CASSETTES.parent / "scripts" / "record_cassettes.py"
    spec = importlib.util.spec_from_file_location("record_cassettes", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_re_recording_reproduces_the_committed_cassettes(tmp_path: Path) -> None:
    """The recorder is deterministic, and the committed files match today's queries and simulator."""
    written = await _recorder().record_all(tmp_path)
    stale = [path.name for path in written if path.read_bytes() != (CASSETTES / path.name).read_bytes()]
    assert stale == [], f"cassettes out of date: {stale}; {RECORD_HINT}"


async def test_a_cassette_recorded_against_a_real_shop_replays_over_https(tmp_path: Path) -> None:
    """Operator cassettes name https://<shop>.myshopify.com; only loopback origins are rewritten."""
    text = (CASSETTES / "check.yaml").read_text(encoding="utf-8")
    real = tmp_path / "real-shop.yaml"
    real.write_text(text.replace(SIMULATOR_ORIGIN, "https://demo-shop.myshopify.com"), encoding="utf-8")
    [served] = await replay_every_request(real)
    assert served.data is not None and served.data["shop"]["name"] == "Sim Snowboards"
