"""``python -m arcaflow_plugin_greeter --atp`` runs the plugin's ATP server."""

import sys

from arcaflow_plugin_sdk import plugin

from arcaflow_plugin_greeter import SCHEMA

if __name__ == "__main__":
    sys.exit(plugin.run(SCHEMA))
