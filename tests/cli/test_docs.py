"""The documentation says what the code does: the README's example is the bundled one,
docs/templates.md lists every template, the README's import of JobFailedError works."""

from __future__ import annotations

import re

from bullmq_codegen import BullMQCodegenError
from bullmq_codegen.generator import render
from bullmq_codegen.runtime import JobFailedError

from ..helpers import EXAMPLES, ROOT

README = (ROOT / "README.md").read_text()


def test_the_readme_example_is_the_bundled_example() -> None:
    section = README[README.index("## Define your jobs") :]
    block = re.search(r"```python\n# (\S+)\n(.*?)```", section, re.DOTALL)
    assert block is not None
    path, code = block.groups()
    assert path == "app/queues/queue_definitions.py"
    source = (EXAMPLES / path).read_text()
    assert code in source  # literally: only the file's docstring and __future__ import precede it
    assert source.endswith(code)


def test_docs_list_every_template() -> None:
    templates = sorted(
        path.name for path in (ROOT / "src/bullmq_codegen/generator/templates").glob("*.jinja")
    )
    assert templates == sorted(f"{name}.jinja" for name in render.OUTPUT_FILES)
    table = (ROOT / "docs/templates.md").read_text()
    for template in templates:
        generated = template.removesuffix(".jinja")
        assert f"| `{generated}` | `{template}`" in table


def test_the_readme_says_where_job_failed_error_comes_from() -> None:
    assert "`from bullmq_codegen.runtime import JobFailedError`" in README  # as imported above
    assert issubclass(JobFailedError, BullMQCodegenError)
