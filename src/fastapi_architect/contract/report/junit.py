"""JUnit XML for CI test report views: one testsuite, one testcase per operation.

A testcase fails when one of its changes is at or above `--fail-on`; the failure lists
them. Changes below it are in the testcase's `system-out`, so the report still shows them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.common import group_by_operation, source

SUITE_NAME = "fastapi-architect contract"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def render_junit(
    changes: Sequence[Change], *, base: Document, revision: Document, fail_on: Level
) -> str:
    groups = group_by_operation(changes)
    failed = 0
    suites = ET.Element("testsuites", name=SUITE_NAME)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"{SUITE_NAME}: {base.name} to {revision.name}",
    )
    for operation, group in groups.items():
        case = ET.SubElement(suite, "testcase", classname=SUITE_NAME, name=operation)
        failing = [c for c in group if c.level >= fail_on]
        passing = [c for c in group if c.level < fail_on]
        if failing:
            failed += 1
            first = failing[0]
            noun = "change" if len(failing) == 1 else "changes"
            failure = ET.SubElement(
                case,
                "failure",
                type=first.id,
                message=f"{len(failing)} {noun} at or above {fail_on.label}: {first.message}",
            )
            failure.text = _lines(failing, base, revision)
        if passing:
            ET.SubElement(case, "system-out").text = _lines(passing, base, revision)
    for element in (suites, suite):
        element.set("tests", str(len(groups)))
        element.set("failures", str(failed))
        element.set("errors", "0")
    ET.indent(suites)
    return XML_DECLARATION + ET.tostring(suites, encoding="unicode") + "\n"


def _lines(changes: Sequence[Change], base: Document, revision: Document) -> str:
    return "".join(
        f"{c.level.label} {c.id}: {c.message} ({source(c, base, revision)})\n" for c in changes
    )
