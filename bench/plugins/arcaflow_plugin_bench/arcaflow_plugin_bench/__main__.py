"""``python -m arcaflow_plugin_bench --atp`` runs the plugin's ATP server."""

import sys

from arcaflow_plugin_sdk import plugin

from arcaflow_plugin_bench import SCHEMA

if __name__ == "__main__":
    sys.exit(plugin.run(SCHEMA))
