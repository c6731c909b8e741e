"""Build the database while building the wheel, so that the wheel carries it.

An editable install sees the file in src/wic_events/ directly; a regular wheel
gets it, with the input files the build read, the JSON Schema files that the
bundles name, and datasette.yaml, through force_include.
"""

import sys
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class DatabaseBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        root = Path(self.root)
        sys.path.insert(0, str(root / "src"))
        from wic_events.compiling import build
        from wic_events.inputs import input_files
        from wic_events.problems import InvalidData

        database = root / "src" / "wic_events" / "wic_events.db"
        try:
            build(root / "data", database)
        except InvalidData as error:
            if version == "editable":
                print(f"wic-events: database not built, {len(error.problems)} problem(s) in data/; run 'wic-events validate'")
                return
            raise
        if version != "editable":
            included = build_data["force_include"]
            included[str(database)] = "wic_events/wic_events.db"
            # File by file, what the build reads: not an editor's swap file or other leftovers in data/.
            for path in input_files(root / "data"):
                included[str(path)] = f"wic_events/data/{path.relative_to(root / 'data').as_posix()}"
            for path in sorted((root / "schema").glob("*.schema.json")):  # the bundles' "$schema" points here
                included[str(path)] = f"wic_events/schema/{path.name}"
            included[str(root / "datasette.yaml")] = "wic_events/datasette.yaml"
