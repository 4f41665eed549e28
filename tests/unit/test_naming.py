"""Python names derived from BullMQ names."""

from __future__ import annotations

import keyword

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bullmq_codegen.definitions.naming import NAME_PATTERN, name_problem, snake_case

names = st.from_regex(NAME_PATTERN, fullmatch=True)


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("emailSend", "email_send"),
        ("afterSignUpEmail", "after_sign_up_email"),
        ("dbCleanUp", "db_clean_up"),
        ("HTTPPing", "http_ping"),
        ("ping-host", "ping_host"),
        ("v2Jobs", "v2_jobs"),
        ("email_send", "email_send"),
        ("A", "a"),
    ],
)
def test_snake_case(name: str, snake: str) -> None:
    assert snake_case(name) == snake


@given(names)
def test_every_valid_name_gives_an_identifier(name: str) -> None:
    snake = snake_case(name)
    assert snake.isidentifier()
    assert snake == snake.lower()
    assert snake_case(snake) == snake


@given(names)
def test_a_valid_name_is_refused_only_for_keywords(name: str) -> None:
    problem = name_problem(name, "queue")
    snake = snake_case(name)
    assert (problem is not None) == (keyword.iskeyword(snake) or keyword.issoftkeyword(snake))


@pytest.mark.parametrize("name", ["", "1abc", "a:b", "a b", "é", "x" * 101, "-a"])
def test_invalid_names_are_refused(name: str) -> None:
    problem = name_problem(name, "worker")
    assert problem is not None
    assert "is not valid" in problem


def test_keywords_are_refused() -> None:
    assert name_problem("class", "queue") == (
        "queue name 'class' is the Python keyword 'class': generated code derives Python "
        "names from it, choose another name"
    )
    assert name_problem(3, "queue") == "queue name must be a string, not int"
