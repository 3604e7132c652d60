from steps_testbase import EchoProvider

from arcaflow_steps import hookimpl


@hookimpl
def arcaflow_steps_provider(context):
    return [EchoProvider("typo")]
