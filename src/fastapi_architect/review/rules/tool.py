"""FAA0xx: problems the tool itself meets in the reviewed code."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.registry import Report, rule


@rule(
    code="FAA000",
    name="parse-error",
    summary="A file could not be read or parsed, so it was not reviewed",
    severity="error",
    scope="project",
)
def parse_error(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Reports a file that could not be reviewed: a syntax error that neither the running
    Python nor the newer grammar known to the tool accepts, a file that is not valid
    UTF-8 (or its declared encoding), or an expression nested too deeply to analyze.

    ## Why is this bad?
    Nothing in that file was checked, so problems in it go unseen. The rest of the
    project is still reviewed.

    ## Example
    ```python
    def broken(:
        ...
    ```

    ## Use instead
    Fix the syntax error, or save the file as UTF-8.

    ## Fix safety
    There is no automatic fix.
    """
    # The engine reports parse failures itself while loading files.
    return iter(())
