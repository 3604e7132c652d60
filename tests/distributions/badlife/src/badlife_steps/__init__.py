from steps_testbase import EchoProvider

from arcaflow_steps import Lifecycle, LifecycleStage, hookimpl


def _lifecycle(initial, **edges):
    return Lifecycle(
        initial_stage=initial,
        stages=tuple(
            LifecycleStage(
                id=stage, next_stages=nexts, input_fields={"input"} if stage == initial else ()
            )
            for stage, nexts in edges.items()
        ),
    )


@hookimpl
def arcaflow_steps_providers(context):
    return [
        EchoProvider(
            "cycle",
            lifecycle=_lifecycle(
                "start", start={"work"}, work={"check"}, check={"work", "done"}, done=()
            ),
        ),
        EchoProvider(
            "unknown-next", lifecycle=_lifecycle("start", start={"work"}, work={"finish"}, done=())
        ),
        EchoProvider(
            "two-initial", lifecycle=_lifecycle("start", start={"done"}, other={"done"}, done=())
        ),
        EchoProvider(
            "unreachable",
            lifecycle=_lifecycle("start", start={"done"}, orphan={"lost"}, lost=(), done=()),
        ),
    ]
