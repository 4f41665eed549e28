"""Regular expressions of Pydantic string patterns, written for JavaScript.

Pydantic checks ``pattern`` constraints with Rust's ``regex`` crate: Unicode
classes (``\\d`` is any decimal digit, ``\\w`` any Unicode word character),
``.`` is anything but ``\\n``, ``$`` is the end of the text, and a match may be
anywhere (search, not full match). JavaScript's ``RegExp`` differs in each of
these, so a pattern is translated to a ``u``-flag regular expression that
accepts the same strings; a construct with no JavaScript equivalent raises
:class:`PatternError` rather than being loosened or dropped.
"""

from __future__ import annotations

import re

__all__ = ["PatternError", "js_regex"]


class PatternError(ValueError):
    """A pattern construct with no JavaScript equivalent; the message says which."""


_WORD = r"\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}"
"""Rust's Unicode ``\\w`` (class contents)."""
_BOUNDARY = f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))"
_NOT_BOUNDARY = f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))"
_IN_CLASS = {
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "s": r"\p{White_Space}",
    "S": r"\P{White_Space}",
    "w": _WORD,
}
_OUTSIDE = {**_IN_CLASS, "w": f"[{_WORD}]", "W": f"[^{_WORD}]", "b": _BOUNDARY, "B": _NOT_BOUNDARY}
_CONTROL = {"n": r"\n", "t": r"\t", "r": r"\r", "f": r"\f", "v": r"\v", "a": r"\x07"}
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7F",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1F\x7F",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": r"!-\/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_GENERAL_CATEGORY = re.compile(
    r"C[cfnos]?|L[Clmotu]?|M[cen]?|N[dlo]?|P[cdefios]?|S[ckmo]?|Z[lps]?"
    r"|Letter|Mark|Number|Punctuation|Symbol|Separator|Other"
)
_PROPERTY = re.compile(r"(?:Script|sc|Script_Extensions|scx)=[A-Za-z_]+")
_SYNTAX = frozenset("^$\\.*+?()[]{}|/")
_LEADING_FLAGS = re.compile(r"\(\?([a-zA-Z]+)\)")
_HEX = re.compile(r"[0-9A-Fa-f]+")


def js_regex(pattern: str) -> str:
    """A JavaScript regular expression literal (``/…/u``) matching what ``pattern`` matches
    in Pydantic. Raises :class:`PatternError` for a construct JavaScript cannot express."""
    return _Translator(pattern).literal()


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.i = 0
        self.flags = "u"
        self.dot_all = False
        self.multi_line = False
        found = _LEADING_FLAGS.match(pattern)
        if found is not None:
            for flag in found.group(1):
                if flag == "i":
                    self.flags = "iu"
                elif flag == "s":
                    self.dot_all = True
                elif flag == "m":
                    self.multi_line = True
                else:
                    raise PatternError(f"the inline flag {flag!r} has no JavaScript equivalent")
            self.i = found.end()

    def fail(self, what: str) -> PatternError:
        return PatternError(
            f"{what} (at offset {self.i} of {self.pattern!r}) has no JavaScript equivalent"
        )

    def literal(self) -> str:
        out: list[str] = []
        text = self.pattern
        while self.i < len(text):
            c = text[self.i]
            if c == "\\":
                out.append(self.escape(in_class=False))
                continue
            self.i += 1
            if c == "[":
                out.append(self.char_class())
            elif c == ".":
                out.append(r"[\s\S]" if self.dot_all else r"[^\n]")
            elif c == "(":
                out.append(self.group())
            elif c == "^" and self.multi_line:
                out.append(r"(?<![^\n])")
            elif c == "$" and self.multi_line:
                out.append(r"(?![^\n])")
            elif c == "{":
                out.append(self.repetition())
            elif c in "]}":
                out.append("\\" + c)
            elif c in "^$*+?)|":
                out.append(c)
            else:
                out.append(_char(c))
        return "/" + ("".join(out) or "(?:)") + "/" + self.flags

    def group(self) -> str:
        rest = self.pattern[self.i :]
        if not rest.startswith("?"):
            return "("
        if rest.startswith("?:"):
            self.i += 2
            return "(?:"
        named = re.match(r"\?P?<([A-Za-z_][A-Za-z0-9_]*)>", rest)
        if named is not None:
            self.i += named.end()
            return f"(?<{named.group(1)}>"
        raise self.fail("the group '(" + rest[:3] + "'")

    def repetition(self) -> str:
        found = re.match(r"(\d*)(,?)(\d*)\}", self.pattern[self.i :])
        if found is None or not (found.group(1) or found.group(3)):
            raise self.fail("the repetition '{'")
        self.i += found.end()
        low, comma, high = found.groups()
        return "{" + (low or "0") + comma + high + "}"

    def char_class(self) -> str:
        text = self.pattern
        out = ["["]
        if text.startswith("^", self.i):
            out.append("^")
            self.i += 1
        first = True
        while True:
            if self.i >= len(text):
                raise self.fail("an unclosed '['")
            c = text[self.i]
            if c == "]" and not first:
                self.i += 1
                return "".join(out) + "]"
            first = False
            if c == "\\":
                out.append(self.escape(in_class=True))
                continue
            if c == "[":
                posix = re.match(r"\[:(\^?)([a-z]+):\]", text[self.i :])
                if posix is None or posix.group(1) or posix.group(2) not in _POSIX:
                    raise self.fail("a nested class")
                out.append(_POSIX[posix.group(2)])
                self.i += posix.end()
                continue
            if text.startswith(("&&", "--", "~~"), self.i):
                raise self.fail(f"the class operation {text[self.i : self.i + 2]!r}")
            self.i += 1
            out.append(
                "\\" + c if c in "]/[\\" else "-" if c == "-" else "\\^" if c == "^" else _char(c)
            )

    def escape(self, *, in_class: bool) -> str:
        text = self.pattern
        if self.i + 1 >= len(text):
            raise self.fail("a trailing backslash")
        c = text[self.i + 1]
        self.i += 2
        table = _IN_CLASS if in_class else _OUTSIDE
        if c in table:
            return table[c]
        if c in _CONTROL:
            return _CONTROL[c]
        if c == "e":
            return r"\x1B"
        if c == "A" and not in_class:
            return "^"
        if c == "z" and not in_class:
            return "$"
        if c in "xuU":
            return self.code_point(c)
        if c in "pP":
            return self.unicode_class(c)
        if c.isascii() and not c.isalnum() and c not in "<>":
            if c in _SYNTAX or (c == "-" and in_class):
                return "\\" + c
            return _char(c)
        raise self.fail(f"the escape '\\{c}'")

    def code_point(self, kind: str) -> str:
        text = self.pattern
        if text.startswith("{", self.i):
            end = text.find("}", self.i)
            digits = text[self.i + 1 : end] if end > 0 else ""
            self.i = end + 1
        else:
            width = {"x": 2, "u": 4, "U": 8}[kind]
            digits = text[self.i : self.i + width]
            self.i += width
        if not _HEX.fullmatch(digits) or int(digits, 16) > 0x10FFFF:
            raise self.fail(f"the escape '\\{kind}{digits}'")
        return f"\\u{{{int(digits, 16):X}}}"

    def unicode_class(self, kind: str) -> str:
        text = self.pattern
        if text.startswith("{", self.i):
            end = text.find("}", self.i)
            name = text[self.i + 1 : end] if end > 0 else ""
            self.i = end + 1 if end > 0 else len(text)
        else:
            name = text[self.i : self.i + 1]
            self.i += 1
        if _GENERAL_CATEGORY.fullmatch(name) or _PROPERTY.fullmatch(name):
            return f"\\{kind}{{{name}}}"
        raise self.fail(
            f"the Unicode class '\\{kind}{{{name}}}' (use a general category or Script=)"
        )


def _char(c: str) -> str:
    """A literal character, escaped when it would end or break a regular expression literal."""
    if c == "/":
        return "\\/"
    if ord(c) < 0x20 or c in "\x7f\u2028\u2029\ufeff" or 0xD800 <= ord(c) <= 0xDFFF:
        return f"\\u{{{ord(c):X}}}"
    return c
