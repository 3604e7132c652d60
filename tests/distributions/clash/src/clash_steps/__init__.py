from steps_testbase import CLOSED, OUTPUTS, STARTING, EchoProvider

from arcaflow_steps import Lifecycle, LifecycleStage, hookimpl

_TWO_STAGES_ONE_FIELD = Lifecycle(
    initial_stage=STARTING,
    stages=(
        LifecycleStage(id=STARTING, input_fields={"input"}, next_stages={OUTPUTS, CLOSED}),
        LifecycleStage(id=OUTPUTS, input_fields={"input"}),
        LifecycleStage(id=CLOSED),
    ),
)


@hookimpl
def arcaflow_steps_providers(context):
    return [
        EchoProvider("clash-run", provider_keyword="cfg", run_keyword="cfg"),
        EchoProvider("clash-kind", provider_keyword="cfg", input_field="kind"),
        EchoProvider("clash-field", provider_keyword="cfg", run_keyword="step", input_field="step"),
        EchoProvider("clash-stages", provider_keyword="cfg", lifecycle=_TWO_STAGES_ONE_FIELD),
    ]
