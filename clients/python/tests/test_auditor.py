"""The auditor's path through the generated client against a live `conveyor serve`: list
events with filters, export the whole log, verify the hash chain.

The server, its URL and the tokens come from the environment (tests/tests/python_client.rs
starts the server and runs this): CONVEYOR_URL, CONVEYOR_ADMIN_TOKEN, CONVEYOR_AUDITOR_TOKEN.
"""

import json
import os

import pytest

from conveyor_client import AuthenticatedClient
from conveyor_client.api.environments import create_environment
from conveyor_client.api.events import list_events, verify_events
from conveyor_client.models import CreateEnvironmentRequest, PageEvent, ProblemDetails, VerifyResult


@pytest.fixture(scope="module")
def admin():
    return AuthenticatedClient(base_url=os.environ["CONVEYOR_URL"], token=os.environ["CONVEYOR_ADMIN_TOKEN"])


@pytest.fixture(scope="module")
def auditor():
    return AuthenticatedClient(base_url=os.environ["CONVEYOR_URL"], token=os.environ["CONVEYOR_AUDITOR_TOKEN"])


@pytest.fixture(scope="module", autouse=True)
def environments(admin):
    for name in ["dev", "staging", "production"]:
        created = create_environment.sync(client=admin, body=CreateEnvironmentRequest(name=name))
        assert not isinstance(created, ProblemDetails), created
        assert created.name == name


def all_events(client, **filters):
    """Every matching event, paging with `after`."""
    events, after = [], 0
    while True:
        page = list_events.sync(client=client, after=after, limit=2, **filters)
        assert isinstance(page, PageEvent), page
        if not page.items:
            return events
        events.extend(page.items)
        after = page.items[-1].position


def test_filters_select_by_type_stream_and_actor(auditor):
    created = all_events(auditor, type_="EnvironmentCreated")
    assert [e.stream for e in created] == ["environment-dev", "environment-staging", "environment-production"]
    assert all(e.actor == "ops" for e in created)
    assert [e.position for e in all_events(auditor, stream_prefix="environment-p")] == [created[2].position]
    assert all_events(auditor, actor="nobody") == []


def test_a_bad_filter_is_a_problem_not_a_page(auditor):
    answer = list_events.sync(client=auditor, limit=0)
    assert isinstance(answer, ProblemDetails), answer
    assert answer.status == 422
    assert "limit" in answer.detail


def test_export_is_gapless_and_verifies(auditor, tmp_path):
    export = tmp_path / "events.jsonl"
    events = all_events(auditor)
    with export.open("w") as out:
        for event in events:
            out.write(json.dumps(event.to_dict()) + "\n")
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert [line["position"] for line in lines] == list(range(1, len(lines) + 1))
    assert all(len(line["hash"]) == 64 for line in lines)

    report = verify_events.sync(client=auditor)
    assert isinstance(report, VerifyResult), report
    assert report.intact
    assert report.checked == len(lines)
    assert report.to == lines[-1]["position"]


def test_the_auditor_may_not_write(auditor):
    refused = create_environment.sync(client=auditor, body=CreateEnvironmentRequest(name="qa"))
    assert isinstance(refused, ProblemDetails), refused
    assert refused.status == 403
