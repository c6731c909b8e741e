"""Build the database while building the wheel, so that the wheel carries it.

An editable install sees the file in src/wic_events/ directly; a regular wheel
gets it, with data/ and datasette.yaml, through force_include.
"""

import sys
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class DatabaseBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        root = Path(self.root)
        sys.path.insert(0, str(root / "src"))
        from wic_events.compiling import build
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
            build_data["force_include"][str(database)] = "wic_events/wic_events.db"
            build_data["force_include"][str(root / "data")] = "wic_events/data"
            build_data["force_include"][str(root / "datasette.yaml")] = "wic_events/datasette.yaml"
