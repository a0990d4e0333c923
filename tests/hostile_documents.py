"""Documents an attacker sends: each under MAX_QUERY_TOKENS (5000), each cheap to send.

Shared by tests/test_hostile_documents.py (each is refused with its code, while /healthz
keeps answering) and bench/hostile.py (the CPU each costs the server).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    name: str
    query: str
    code: str  # the extensions.code of the refusal
    variables: dict[str, object] | None = None


def _fan_out(levels: int) -> str:
    """Each fragment spreads the next twice over: 2**levels fields once expanded."""
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...G{i + 1} }}" for i in range(levels)]
    parts += [f"fragment G{i} on Query {{ ...F{i} }}" for i in range(1, levels + 1)]
    parts.append(f"fragment F{levels} on Query {{ products {{ edges {{ node {{ name }} }} }} }}")
    return "\n".join(parts)


def _nested_fan_out(levels: int) -> str:
    """Lists inside lists, each level through two fragments: the answer grows 20x a level."""
    parts = ["{ categories(first: 100) { edges { node { ...C0 } } } }"]
    parts += [
        f"fragment C{i} on Category {{ x{i}: children {{ ...C{i + 1} }} y{i}: children "
        f"{{ ...C{i + 1} }} }}"
        for i in range(levels)
    ]
    parts.append(f"fragment C{levels} on Category {{ name }}")
    return "\n".join(parts)


def _deep_through_fragments(levels: int) -> str:
    parts = ["{ categories { edges { node { ...D0 } } } }"]
    parts += [f"fragment D{i} on Category {{ children {{ ...D{i + 1} }} }}" for i in range(levels)]
    parts.append(f"fragment D{levels} on Category {{ name }}")
    return "\n".join(parts)


def _same_field_many_times(count: int) -> str:
    return "{ " + "me { id } " * count + "}"


def _same_response_name_conflicts(count: int) -> str:
    return "{ " + " ".join("x: me { id } x: me { email }" for _ in range(count)) + " }"


def _many_fragments_of_one_object(count: int) -> str:
    fragments = "\n".join(f"fragment U{i} on User {{ id email firstName }}" for i in range(count))
    return "{ me { " + " ".join(f"...U{i}" for i in range(count)) + " } }\n" + fragments


def _fragment_chain(length: int) -> str:
    parts = ["query { ...L0 }"]
    parts += [f"fragment L{i} on Query {{ ...L{i + 1} }}" for i in range(length)]
    parts.append(f"fragment L{length} on Query {{ __typename }}")
    return "\n".join(parts)


HOSTILE = [
    Hostile("fragment fan-out", _fan_out(40), "QUERY_TOO_COSTLY"),
    Hostile("nested list fan-out", _nested_fan_out(8), "QUERY_TOO_COSTLY"),
    Hostile("depth through fragments", _deep_through_fragments(14), "QUERY_TOO_DEEP"),
    Hostile("one field 1,240 times", _same_field_many_times(1240), "TOO_MANY_FIELDS"),
    Hostile("one field 500 times", _same_field_many_times(500), "QUERY_TOO_COMPLEX"),
    Hostile("conflicting aliases", _same_response_name_conflicts(240), "TOO_MANY_ALIASES"),
    Hostile("450 fragments of one object", _many_fragments_of_one_object(450), "TOO_MANY_FIELDS"),
    Hostile("330 fragments of one object", _many_fragments_of_one_object(330), "QUERY_TOO_COMPLEX"),
    Hostile("fragment chain of 480", _fragment_chain(480), "QUERY_TOO_COMPLEX"),
    Hostile(
        "one directive 700 times",
        "{ me " + "@include(if: true) " * 700 + "{ id } }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Hostile(
        "1,200 unused variables",
        "query(" + " ".join(f"$v{i}: Int" for i in range(1200)) + ") { __typename }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Hostile(
        "2,400 IDs in a literal",
        "{ nodes(ids: [" + ",".join('"x"' for _ in range(2400)) + "]) { id } }",
        "INVALID",
    ),
    Hostile(
        "an integer of 4,400 digits",
        "{ products(first: " + "9" * 4400 + ") { totalCount } }",
        "INVALID",
    ),
    Hostile(
        "a float of 1e9999",
        "{ products(first: 1e9999) { totalCount } }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Hostile("a page of 10^9", "{ products(first: 1000000000) { totalCount } }", "INVALID"),
    Hostile(
        "pages of lists of lists, sized by a variable",
        "query($n: Int) { products(first: $n) { edges { node { variants { product { "
        "variants { name } } } } } } }",
        "QUERY_TOO_COSTLY",
        {"n": 100},
    ),
    Hostile(
        "a fragment cycle",
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Hostile("nesting 200 deep", "{" + "a{" * 199 + "b" + "}" * 199 + "}", "QUERY_TOO_DEEP"),
    # graphql-core's parser stops past 200 levels, before any recursion can overflow.
    Hostile("nesting 201 deep", "{" + "a{" * 200 + "b" + "}" * 200 + "}", "GRAPHQL_PARSE_FAILED"),
]
