# SPDX-License-Identifier: MIT
"""Bad arguments raise ValueError or TypeError with one line that names the
cause; nothing is published and nothing is counted."""

import unittest

import logbus
from writerproc import WriterTestCase


class BadArguments(WriterTestCase):

    def check(self, error, pattern, *args, **kwargs):
        before = self.bus.stats()
        with self.assertRaisesRegex(error, pattern):
            self.bus.publish(*args, **kwargs)
        self.assertEqual(self.bus.stats()["published"], before["published"])

    def test_bad_field_keys(self):
        """A key breaking the rule is named, with the rule."""
        rule = r"a key is 1 to 64 characters of \[A-Za-z0-9_\]"
        self.check(ValueError, r"field key 'request\.id' is not valid: " + rule,
                   "info", "x", **{"request.id": 1})
        self.check(ValueError, "field key 'caf\u00e9' is not valid", "info", "x",
                   **{"caf\u00e9": 1})
        self.check(ValueError, "field key '' is not valid", "info", "x", **{"": 1})
        self.check(ValueError, f"field key '{'k' * 65}' is not valid", "info", "x",
                   **{"k" * 65: 1})
        self.check(ValueError, "field key 'a\\\\x00b' is not valid", "info", "x",
                   **{"a\x00b": 1})

    def test_bad_field_values(self):
        self.check(TypeError, "field items is a list: values are str, bytes, int, float, "
                   "bool or None", "info", "x", items=[1])
        self.check(ValueError, "too many fields: an entry holds at most 64", "info", "x",
                   **{f"k{i}": i for i in range(65)})

    def test_bad_levels(self):
        self.check(ValueError, "level 20 is out of range: levels are 0 \\(emerg\\) to 7 "
                   "\\(debug\\)", 20, "x")
        self.check(ValueError, "level -1 is out of range", -1, "x")
        self.check(ValueError, "'loud' is not a level: use emerg, alert", "loud", "x")
        self.check(TypeError, "a level is an int 0..7 or a name, not float", 6.0, "x")
        self.check(TypeError, "a level is an int 0..7 or a name, not bool", True, "x")

    def test_bad_tags_and_messages(self):
        self.check(ValueError, "tag 'a b' is not valid: a tag is 1 to 64 printable ASCII "
                   "characters without space", "info", "x", tag="a b")
        self.check(ValueError, "tag '' is not valid", "info", "x", tag="")
        self.check(ValueError, "is not valid", "info", "x", tag="t" * 65)
        self.check(TypeError, "a tag is a str, not int", "info", "x", tag=3)
        self.check(TypeError, "a message is a str or bytes, not int", "info", 42)
        self.check(TypeError, "2 positional arguments \\(1 given\\)", "info")
        self.check(TypeError, "2 positional arguments \\(0 given\\)", msg="x")

    def test_bad_bus_and_timeout(self):
        with self.assertRaisesRegex(ValueError, "bus name 'no/slash' is not valid: a name is "
                                    "1 to 64 characters of \\[A-Za-z0-9_.-\\]"):
            logbus.Bus("no/slash")
        with self.assertRaisesRegex(ValueError, "bus name '' is not valid"):
            logbus.Bus("")
        with self.assertRaisesRegex(ValueError, "timeout -1 is not valid: seconds >= 0, or "
                                    "None for no limit"):
            self.bus.flush(-1)
        with self.assertRaisesRegex(TypeError, "must be real number, not str"):
            self.bus.flush("soon")


if __name__ == "__main__":
    unittest.main()
