"""Docs that cannot drift: the generated references match the code; the guide names real metrics and files."""

from __future__ import annotations

import importlib.util
import re
import sys
import typing
from pathlib import Path
from types import ModuleType

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shopify_bridge.observe.metrics import BridgeMetrics
from shopify_bridge.store.schema import open_writer
from tests.ops.scrape import ops_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_docs_match_the_code(gen_docs: ModuleType) -> None:
    behind = gen_docs.stale(REPO)
    assert behind == [], (
        f"{', '.join(map(str, behind))} differ from what the code says; regenerate with: {gen_docs.FIX_COMMAND}"
    )


def test_generation_ignores_the_terminal(gen_docs: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    first = gen_docs.documents()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("TERMINAL_WIDTH", "40")
    assert gen_docs.documents() == first


def test_references_cover_every_key_and_every_command(gen_docs: ModuleType) -> None:
    from shopify_bridge.config import Config, Exclude, Source
    from shopify_bridge.config.base import field_docs
    from shopify_bridge.config.destinations import DESTINATION_MODELS, Alerts

    configuration = gen_docs.configuration_markdown()
    for destination in DESTINATION_MODELS:  # every destination type has its section
        (kind,) = typing.get_args(destination.model_fields["type"].annotation)
        assert f'## `[[destinations]]` with `type = "{kind}"`' in configuration
    assert "## `[alerts]`" in configuration
    for model in (Config, Source, Exclude, *DESTINATION_MODELS, Alerts):
        docs = field_docs(model)
        for name in model.model_fields:
            assert f"| `{name}` |" in configuration
            assert " ".join(docs[name].split()).replace("|", "\\|") in configuration
    for kind in ("source_failed", "source_recovered", "dead_letters", "reconcile_mismatch"):
        assert f"`{kind}`" in configuration
    commands = gen_docs.commands_markdown()
    for command in ("init", "check", "run", "tui", "demo", "simulate", "explain", "events", "replay", "reconcile"):
        assert f"## `shopify-bridge {command}`" in commands
    assert "--metrics-port PORT" in commands and "--stale-after SECONDS" in commands


def test_the_check_mode_names_the_fix(gen_docs: ModuleType, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen_docs, "REPO", tmp_path)                  # an empty tree: everything is stale
    assert gen_docs.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "docs/configuration.md is out of date; run: .venv/bin/python scripts/gen_docs.py" in err


def exposed_metric_names(tmp_path: Path) -> set[str]:
    config = ops_config(tmp_path, "http://127.0.0.1:9")
    open_writer(config.database).conn.close()
    metrics = BridgeMetrics(config)
    text = metrics.exposition().decode()
    metrics.close()
    return {family.name + ("_total" if family.type == "counter" else "")
            for family in text_string_to_metric_families(text) if family.name.startswith("shopify_bridge_")}


def test_the_operator_guide_lists_exactly_the_metrics_served(tmp_path: Path) -> None:
    guide = (REPO / "docs" / "operator-guide.md").read_text()
    table = set(re.findall(r"^\| `(shopify_bridge_\w+)` \|", guide, re.M))
    assert table == exposed_metric_names(tmp_path)
    mentioned = set(re.findall(r"\b(shopify_bridge_[a-z_]+)", guide))
    assert mentioned <= table


def test_links_in_the_guide_and_the_readme_documentation_section_resolve() -> None:
    guide = REPO / "docs" / "operator-guide.md"
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    links = [(guide.parent, target) for target in re.findall(r"\]\(([^)#]+)\)", guide.read_text())]
    links += [(REPO, target) for target in re.findall(r"\]\(([^)#]+)\)", section)]
    assert len(links) >= 7
    missing = [str(base / target) for base, target in links if not (base / target).exists()]
    assert missing == []


def test_every_destination_type_has_its_page_with_a_mapping_table_linked_from_the_references() -> None:
    from shopify_bridge.config.destinations import DESTINATION_MODELS

    kinds = [typing.get_args(model.model_fields["type"].annotation)[0] for model in DESTINATION_MODELS]
    configuration = (REPO / "docs" / "configuration.md").read_text()
    readme = (REPO / "README.md").read_text()
    pages = REPO / "docs" / "destinations"
    for kind in kinds:
        page = pages / f"{kind}.md"
        assert page.is_file(), f"destination type {kind!r} has no page {page.relative_to(REPO)}"
        text = page.read_text()
        assert text.startswith(f"# Destination `{kind}`"), page
        mapping = text.split("\n## Mapping\n", 1)
        assert len(mapping) == 2, f"{page.name} has no '## Mapping' section"
        assert re.search(r"^\|.*\|\n\|(---\|)+\n\|", mapping[1].split("\n## ", 1)[0], re.M), f"{page.name}: no table"
        assert f"(destinations/{kind}.md)" in configuration, f"configuration.md does not link {page.name}"
        assert f"(docs/destinations/{kind}.md)" in readme, f"README.md does not link {page.name}"
    assert sorted(p.stem for p in pages.glob("*.md")) == sorted(kinds)  # no page of a type that is gone
