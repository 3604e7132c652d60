"""A deployer named 'fake' of deployment type 'fake' (never deploys anything)."""

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import ObjectSchema, ScopeSchema
from arcaflow_steps_builtin.deployers.hookspecs import hookimpl


class FakeDeployerFactory:
    deployer_name = "fake"
    deployment_type = "fake"

    def configuration_schema(self):
        return ScopeSchema(root="Fake", objects={"Fake": ObjectSchema(id="Fake", properties={})})

    def create(self, config):
        raise DeploymentError("the fake deployer deploys nothing")


@hookimpl
def arcaflow_steps_deployers():
    return [FakeDeployerFactory()]
