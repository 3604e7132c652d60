"""Workflows whose output is a literal structure, for the stdout document tests.

Each case is a workflow for the Go engine 0.21.0 (typed values come from a typed input file,
since the Go engine reads every YAML literal as a string) and the same output data as Python
values. ``output_document_probe.py`` runs the Go engine on each case and stores its stdout in
``data/go-output-document-<case>.out``; ``test_output_document.py`` compares ours with it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

SOURCE: Final = "arcaflow-plugin-bench@git+https://example.invalid/arcaflow-plugin-bench"

STRINGS: Final = [
    *("yes", "no", "on", "off", "y", "n", "Yes", "true", "True", "null", "~", "", "5", "-5"),
    *("1.0", "0x10", "0X10", "1e3", ".5", "1.", "+5", " lead", "trail ", "a: b", "a:b", "#x"),
    *("x #y", "x#y", "- x", "-x", "-", "x\ty", "a\nb", "a\nb\n", "a\n\n", " a\nb", "\na"),
    *("a \nb", "a\n b", "\ta", "1:30", "2024-01-01", "2024-1-2", "2024-01-01T10:00:00Z"),
    *("2024-01-01 1:2:3", "0b1", "1_000", "0o7", "0777", "08", "+0x10", "-0o7", "-.inf"),
    *(".inf", ".nan", ".NaN", "+.inf", "inf", "nan", "=", "<<", "@x", "`x", "%x", "!x", "&x"),
    *("*x", "|x", ">x", "'q'", '"dq"', "[x]", "{x}", "x,y", "?x", "? x", ":x", "x:", "x: y"),
    *("ü", "emoji \U0001f600", "\u00a0nbsp", "---", "...", "--- x", "a'b", 'a"b', "back\\slash"),
    *("x" * 130, "\u2028", "a\rb", "\x7f", "\ufeffbom", "1e999", "1_e999", "9223372036854775808"),
    "18446744073709551616",
]
KEYS: Final = [
    *("yes", "n", "", "5", "a: b", "x" * 129, "x" * 128, "#k", "- k", "ü", "v10", "v2", "B", "a"),
    "true",
]

_INPUT_SCHEMA: Final = {
    "root": "R",
    "objects": {
        "R": {
            "id": "R",
            "properties": {
                "ints": {"type": {"type_id": "list", "items": {"type_id": "integer"}}},
                "floats": {"type": {"type_id": "list", "items": {"type_id": "float"}}},
                "bools": {"type": {"type_id": "list", "items": {"type_id": "bool"}}},
                "nested": {
                    "type": {
                        "type_id": "list",
                        "items": {"type_id": "list", "items": {"type_id": "integer"}},
                    }
                },
                "objs": {"type": {"type_id": "list", "items": {"type_id": "ref", "id": "O"}}},
                "strmap": {
                    "type": {
                        "type_id": "map",
                        "keys": {"type_id": "string"},
                        "values": {"type_id": "list", "items": {"type_id": "float"}},
                    }
                },
                "one": {"type": {"type_id": "float"}},
                "emptyl": {"type": {"type_id": "list", "items": {"type_id": "integer"}}},
                "emptym": {
                    "type": {
                        "type_id": "map",
                        "keys": {"type_id": "string"},
                        "values": {"type_id": "integer"},
                    }
                },
            },
        },
        "O": {
            "id": "O",
            "properties": {
                "a": {"type": {"type_id": "integer"}},
                "b": {
                    "type": {"type_id": "list", "items": {"type_id": "bool"}},
                    "required": False,
                },
                "s": {"type": {"type_id": "string"}, "required": False},
                "o": {"type": {"type_id": "ref", "id": "P"}, "required": False},
            },
        },
        "P": {
            "id": "P",
            "properties": {
                "l": {
                    "type": {
                        "type_id": "list",
                        "items": {"type_id": "list", "items": {"type_id": "string"}},
                    }
                }
            },
        },
    },
}
#: The input file (every scalar a string: the Go engine converts them by the input schema).
INPUT: Final = {
    "ints": ["0", "-7", "9223372036854775807"],
    "floats": [
        *("5", "1500", "0.00000015", "-0.0", "1e22", "0.1", "123456.789", "inf", "-inf"),
        *("nan", "1e-300", "2.5e-5"),
    ],
    "bools": ["true", "false"],
    "nested": [["1", "2"], [], ["3"]],
    "objs": [{"a": "1", "b": ["true"]}, {"a": "2", "s": "a\nb", "o": {"l": [["x", " y\nz"], []]}}],
    "strmap": {"b": ["1.5"], "a": [], "v10": ["2"], "v2": ["3"]},
    "one": "7",
    "emptyl": [],
    "emptym": {},
}
_TYPED_INPUT: Final = {
    "ints": [0, -7, 9223372036854775807],
    "floats": [
        *(5.0, 1500.0, 1.5e-7, -0.0, 1e22, 0.1, 123456.789, float("inf"), float("-inf")),
        *(float("nan"), 1e-300, 2.5e-5),
    ],
    "bools": [True, False],
    "nested": [[1, 2], [], [3]],
    "objs": [{"a": 1, "b": [True]}, {"a": 2, "s": "a\nb", "o": {"l": [["x", " y\nz"], []]}}],
    "strmap": {"b": [1.5], "a": [], "v10": [2.0], "v2": [3.0]},
    "one": 7.0,
    "emptyl": [],
    "emptym": {},
}
_MESSAGE: Final = "Hello, x!"  # the bench plugin's hello step, given the name "x"
_EXPRESSIONS: Final = {"MESSAGE": "$.steps.h.outputs.success.message", "INPUT": "$.input"}

#: case -> (the output as written in the workflow, the output data as Python values)
CASES: Final[dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {
    "scalars": (
        {
            "m": "EXPR:MESSAGE",
            "typed": "EXPR:INPUT",
            "strings": STRINGS,
            "keys": dict.fromkeys(KEYS, "v"),
            "lit": {"e": {}, "l": [], "ll": [[], []], "lm": [{}], "ml": {"x": [{"y": "z"}]}},
        },
        {
            "m": _MESSAGE,
            "typed": _TYPED_INPUT,
            "strings": STRINGS,
            "keys": dict.fromkeys(KEYS, "v"),
            "lit": {"e": {}, "l": [], "ll": [[], []], "lm": [{}], "ml": {"x": [{"y": "z"}]}},
        },
    ),
    "layout": (
        layout := {
            "m": "EXPR:MESSAGE",
            "a": [
                [
                    {
                        "k": [
                            {
                                "q": "x\ny",
                                "r": " lead\nz",
                                "s": ["1", "2"],
                                "t": {"u": "a\nb", "v": " c\nd"},
                            }
                        ]
                    }
                ]
            ],
            "b": [{"c": {"d": [["e"]], "f": "g\nh"}}],
            "c": [[" i\nj"]],
        },
        {**layout, "m": _MESSAGE},
    ),
}


def workflow_text(case: str) -> str:
    """Return the Go engine's workflow file for ``case`` (JSON, which YAML reads)."""
    workflow = {
        "version": "v0.2.0",
        "input": _INPUT_SCHEMA,
        "steps": {
            "h": {
                "plugin": {"src": SOURCE, "deployment_type": "python"},
                "step": "hello",
                "input": {"name": "x"},
            }
        },
        "outputs": {"success": CASES[case][0]},
    }
    text = json.dumps(workflow, ensure_ascii=False, indent=1)
    # Characters YAML does not allow raw are written as escapes.
    text = re.sub("[\x7f\ufeff\u2028\u2029\x85\u00a0]", lambda m: f"\\u{ord(m[0]):04x}", text)
    for name, expression in _EXPRESSIONS.items():
        text = text.replace(f'"EXPR:{name}"', f"!expr {expression}")
    return text
