from steps_testbase import EchoProvider

from arcaflow_steps import hookimpl


@hookimpl
def arcaflow_steps_providers():
    return [EchoProvider("shell", provider_keyword="shell")]
