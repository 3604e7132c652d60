from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import ObjectSchema, ScopeSchema
from arcaflow_steps_builtin.deployers.hookspecs import hookimpl


class TwinFactory:
    deployer_name = "twin"
    deployment_type = "twin"

    def configuration_schema(self):
        return ScopeSchema(root="Twin", objects={"Twin": ObjectSchema(id="Twin", properties={})})

    def create(self, config):
        raise DeploymentError("twin deploys nothing")


@hookimpl
def arcaflow_steps_deployers():
    return [TwinFactory()]
