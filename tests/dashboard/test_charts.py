"""The charts reach Streamlit as Vega-Lite specs that the pages do not check at run time
(`widgets.chart`); here every chart every page draws is checked against the Vega-Lite schema
Altair ships, on the test world's data."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import pytest
from altair.utils.schemapi import validate_jsonschema
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import open_page, signed_in
from tests.dashboard.world import World

pytestmark = pytest.mark.usefixtures("dashboard_env")


def chart_specs(at: AppTest) -> list[dict[str, Any]]:
    assert not at.exception, at.exception
    specs = []

    def walk(node: Any) -> None:
        children = getattr(node, "children", None)
        if not isinstance(children, dict):
            return
        for child in children.values():
            if getattr(child, "type", "") == "vega_lite_chart":
                specs.append(json.loads(child.proto.spec))
            walk(child)

    walk(at._tree)
    return specs


@pytest.mark.parametrize("page", ["overview", "campaigns", "helpdesk"])
def test_every_chart_is_valid_vega_lite(page: str, world: World) -> None:
    at = signed_in() if page == "overview" else open_page(page)
    specs = chart_specs(at)
    assert specs, f"the {page} page drew no chart"
    schema = alt.vegalite.v6.schema.core.load_schema()
    for spec in specs:
        validate_jsonschema(spec, schema, raise_error=True)
        assert spec["config"]["font"].startswith("Source Sans"), "the dashboard's Altair theme"


def test_an_invalid_spec_is_refused() -> None:
    """The check above can fail: a mark Vega-Lite does not know is an error."""
    schema = alt.vegalite.v6.schema.core.load_schema()
    with pytest.raises(Exception, match="bars"):
        validate_jsonschema({"mark": "bars", "data": {"values": []}}, schema, raise_error=True)
