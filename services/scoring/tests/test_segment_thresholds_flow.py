"""Integration: a segment's own threshold (docs/domain.md#alerts-that-reach-people) through the API."""

import uuid

import pytest

pytestmark = pytest.mark.integration

BASE = "/v1/indicator-thresholds/complaint_rate_per_100/segments"
STRICT = {"value": 2, "direction": "above", "min_sample": 5, "enabled": True, "period": "month"}


async def segments(services) -> list[dict]:
    return (await services.scoring.get("/v1/indicator-thresholds")).json()["segments"]


async def indicator_threshold(services) -> dict:
    items = (await services.scoring.get("/v1/indicator-thresholds")).json()["items"]
    return next(t for t in items if t["indicator"] == "complaint_rate_per_100")


async def test_a_segment_threshold_is_versioned_listed_and_removed(services) -> None:
    region = f"region-{uuid.uuid4().hex[:8]}"
    indicator_before = await indicator_threshold(services)
    first = await services.scoring.put(f"{BASE}/region/{region}", json=STRICT)
    assert first.status_code == 200, first.text
    second = await services.scoring.put(f"{BASE}/region/{region}", json={**STRICT, "value": 3})
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert second.json()["updated_by"] == "tests"
    [mine] = [s for s in await segments(services) if s["segment"] == region]
    assert (mine["dimension"], mine["value"], mine["version"]) == ("region", 3.0, 2)
    assert await indicator_threshold(services) == indicator_before  # the rest keep the indicator's own

    removed = await services.scoring.delete(f"{BASE}/region/{region}")
    assert removed.status_code == 204
    assert not [s for s in await segments(services) if s["segment"] == region]
    again = await services.scoring.delete(f"{BASE}/region/{region}")
    assert again.status_code == 404


async def test_bad_segment_thresholds_are_refused_and_change_nothing(services) -> None:
    before = await segments(services)
    out_of_range = await services.scoring.put(f"{BASE}/tier/key", json={**STRICT, "value": -1})
    assert out_of_range.status_code == 422 and out_of_range.json()["errors"][0]["field"] == "value"
    all_segment = await services.scoring.put(f"{BASE}/all/EMEA", json=STRICT)
    assert all_segment.status_code == 422 and all_segment.json()["errors"][0]["field"] == "segment"
    unknown = await services.scoring.put("/v1/indicator-thresholds/happiness/segments/tier/key", json=STRICT)
    assert unknown.status_code == 404
    bad_dimension = await services.scoring.put(f"{BASE}/planet/mars", json=STRICT)
    assert bad_dimension.status_code == 422
    assert await segments(services) == before
