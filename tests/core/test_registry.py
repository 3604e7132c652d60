"""The registry built from explicit plugins: rules, duplicates, isolation, extensions, observers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import jsonschema
import pluggy
import pytest

from arcaflow_steps import (
    BlockedKindError,
    DuplicateExtensionError,
    DuplicateKindError,
    ExtensionGroup,
    ExtensionTable,
    InvalidLifecycleError,
    InvalidProviderError,
    Lifecycle,
    LifecycleStage,
    ProviderContext,
    ProviderLoadError,
    Registry,
    StepEvent,
    StepEventKind,
    StepResult,
    UnknownKindError,
    hookimpl,
)
from arcaflow_steps._blocked_names import mentions_blocking_options
from arcaflow_steps._entry_points import EntryPointInfo, parse_blocked
from arcaflow_steps._provider_rules import validate_provider
from arcaflow_steps.schema import ObjectSchema, PropertySchema, ScopeSchema, StringSchema

KEYWORD_RULE = (
    "the provider keyword, the run keyword and every stage input field must be distinct and "
    "none may be 'kind'"
)


def lifecycle(input_field: str = "input") -> Lifecycle[LifecycleStage]:
    return Lifecycle(
        initial_stage="run",
        stages=(
            LifecycleStage(id="run", input_fields={input_field}, next_stages={"done"}),
            LifecycleStage(id="done"),
        ),
    )


class FakeProvider:
    """A provider that is never run: enough for registration and validation."""

    def __init__(
        self,
        kind: str,
        *,
        provider_keyword: str = "config",
        run_keyword: str = "step",
        stages: Lifecycle[LifecycleStage] | None = None,
    ) -> None:
        self.kind = kind
        self.provider_keyword = provider_keyword
        self.run_keyword = run_keyword
        self._lifecycle = stages or lifecycle()
        self.closed = 0

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        return self._lifecycle

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        scope = ScopeSchema(
            root="Config",
            objects={
                "Config": ObjectSchema(
                    id="Config",
                    properties={"name": PropertySchema(type=StringSchema(), required=True)},
                )
            },
        )
        return {self.provider_keyword: PropertySchema(type=scope, required=True)}

    def load_schema(self, provider_input: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self.closed += 1


class TypedProvider(FakeProvider):
    """A typed provider: the registry must use what ``any()`` returns."""

    def any(self) -> FakeProvider:
        return FakeProvider(f"{self.kind}-adapted")


#: An extension group of a provider's own, with its own hook markers (as the plugin provider's
#: deployers have): backends, named uniquely per backend type.
backend_hookimpl = pluggy.HookimplMarker("acme")
_backend_hookspec = pluggy.HookspecMarker("acme")


class BackendSpecs:
    @_backend_hookspec
    def acme_backends(self) -> list[Any]:  # type: ignore[empty-body]
        """Return the backends a package offers."""


BACKENDS = ExtensionGroup(
    group="arcaflow.step_backends",
    what="backend",
    specs=BackendSpecs,
    project_name="acme",
    hook="acme_backends",
    name_of=lambda backend: backend.name,
    scope="backend type",
    scope_of=lambda backend: backend.backend_type,
)


class Plugin:
    """A plugin object offering providers (and optionally backends) through hooks."""

    def __init__(self, *providers: Any, backends: tuple[Any, ...] = ()) -> None:
        self.providers = providers
        self.backends = backends
        self.calls = 0

    @hookimpl
    def arcaflow_steps_providers(self, context: ProviderContext) -> list[Any]:
        self.calls += 1
        return list(self.providers)

    @backend_hookimpl
    def acme_backends(self) -> list[Any]:
        return list(self.backends)


class Backend:
    def __init__(self, name: str, backend_type: str) -> None:
        self.name = name
        self.backend_type = backend_type


def test_get_returns_provider_and_kinds_are_sorted() -> None:
    """Providers of several plugins are found by kind; kinds are sorted."""
    zeta, alpha = FakeProvider("zeta"), FakeProvider("alpha")
    registry = Registry.from_plugins([Plugin(zeta), Plugin(alpha)])
    assert ("alpha", "zeta") == registry.kinds()
    assert zeta is registry.get("zeta")
    assert () == registry.failures()


def test_typed_provider_is_adapted_with_any() -> None:
    """A provider with ``any()`` is registered through its untyped adapter."""
    registry = Registry.from_plugins([Plugin(TypedProvider("typed"))])
    assert ("typed-adapted",) == registry.kinds()


def test_hookimpl_may_omit_context() -> None:
    """An ``arcaflow_steps_providers`` implementation without the context argument works."""

    class NoContext:
        @hookimpl
        def arcaflow_steps_providers(self) -> list[Any]:
            return [FakeProvider("plain")]

    assert "plain" == Registry.from_plugins([NoContext()]).get("plain").kind


def test_unknown_kind_lists_valid_kinds() -> None:
    """An unknown kind raises an error listing the valid kinds, sorted."""
    registry = Registry.from_plugins([Plugin(FakeProvider("b"), FakeProvider("a"))])
    with pytest.raises(UnknownKindError) as excinfo:
        registry.get("c", step_id="hello")
    assert "unknown provider kind 'c' in step 'hello'; valid kinds: 'a', 'b'" == str(excinfo.value)
    assert ("a", "b") == excinfo.value.valid_kinds


def test_duplicate_kind_is_refused_naming_both() -> None:
    """Two plugins providing one kind: the kind is unusable and the error names both."""

    class First(Plugin):
        pass

    class Second(Plugin):
        pass

    registry = Registry.from_plugins([First(FakeProvider("x")), Second(FakeProvider("x"))])
    with pytest.raises(DuplicateKindError) as excinfo:
        registry.get("x")
    assert (
        "kind 'x' is provided 2 times: by <plugin First> 0 (entry point 'First') and by "
        "<plugin Second> 1 (entry point 'Second')" == str(excinfo.value)
    )
    assert ["x"] == [failure.name for failure in registry.failures()]


def test_failing_hook_is_isolated() -> None:
    """A plugin whose hook raises is a load failure; other plugins keep working."""

    class Exploding:
        @hookimpl
        def arcaflow_steps_providers(self) -> list[Any]:
            raise RuntimeError("boom")

    registry = Registry.from_plugins([Exploding(), Plugin(FakeProvider("fine"))])
    assert "fine" == registry.get("fine").kind
    (failure,) = registry.failures()
    assert (
        "provider for kind 'Exploding' from <plugin Exploding> 0 (entry point 'Exploding') "
        "failed to load: arcaflow_steps_providers() raised RuntimeError: boom"
    ) == failure.message


def test_hookimpl_with_unknown_argument_is_refused() -> None:
    """pluggy refuses an implementation asking for an argument the spec lacks."""

    class Wrong:
        @hookimpl
        def arcaflow_steps_providers(self, registry: Any) -> list[Any]:
            return []

    (failure,) = Registry.from_plugins([Wrong()]).failures()
    assert isinstance(failure.error, ProviderLoadError)
    assert "its hooks do not match arcaflow_steps.hookspecs" in failure.message
    assert "'registry'" in failure.message


def test_invalid_provider_is_isolated() -> None:
    """A provider breaking the keyword rules is refused by name; its siblings still load."""
    bad = FakeProvider("bad", run_keyword="config")
    registry = Registry.from_plugins([Plugin(bad, FakeProvider("good"))])
    assert "good" == registry.get("good").kind
    with pytest.raises(ProviderLoadError) as excinfo:
        registry.get("bad")
    assert str(excinfo.value).endswith(
        f"provider 'bad' is invalid: run keyword 'config' is also the provider keyword; "
        f"{KEYWORD_RULE}"
    )


@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        pytest.param(
            FakeProvider("p", provider_keyword="kind"),
            f"provider keyword 'kind' is reserved for the step kind; {KEYWORD_RULE}",
            id="provider-keyword-kind",
        ),
        pytest.param(
            FakeProvider("p", run_keyword="kind"),
            f"run keyword 'kind' is reserved for the step kind; {KEYWORD_RULE}",
            id="run-keyword-kind",
        ),
        pytest.param(
            FakeProvider("p", run_keyword="config"),
            f"run keyword 'config' is also the provider keyword; {KEYWORD_RULE}",
            id="run-is-provider",
        ),
        pytest.param(
            FakeProvider("p", stages=lifecycle("config")),
            f"input field 'config' of stage 'run' is also the provider keyword; {KEYWORD_RULE}",
            id="field-is-provider",
        ),
        pytest.param(
            FakeProvider("p", stages=lifecycle("kind")),
            f"input field 'kind' of stage 'run' is reserved for the step kind; {KEYWORD_RULE}",
            id="field-is-kind",
        ),
        pytest.param(
            FakeProvider("p", provider_keyword=""),
            "provider keyword '' must be a non-empty string",
            id="empty-keyword",
        ),
        pytest.param(
            FakeProvider("Bad Kind"),
            "kind 'Bad Kind' is not a valid name; use lowercase [a-z][a-z0-9_-]*",
            id="kind-syntax",
        ),
    ],
)
def test_validate_provider_refuses_keyword_problems(provider: FakeProvider, reason: str) -> None:
    """Keyword collisions and reserved names are refused, saying what is valid."""
    with pytest.raises(InvalidProviderError) as excinfo:
        validate_provider(provider)
    assert f"provider {provider.kind!r} is invalid: {reason}" == str(excinfo.value)


class WrongSchemaProvider(FakeProvider):
    def provider_schema(self) -> Mapping[str, PropertySchema]:
        return {"other": PropertySchema(type=StringSchema())}


class LooseSchemaProvider(FakeProvider):
    def provider_schema(self) -> Mapping[str, Any]:
        return {"config": {"type": "string"}}


@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        pytest.param(
            WrongSchemaProvider("p"),
            "provider_schema() must map exactly the provider keyword 'config' to its property, "
            "got keys 'other'",
            id="wrong-key",
        ),
        pytest.param(
            LooseSchemaProvider("p"),
            "provider_schema()['config'] must be an arcaflow_steps.schema.PropertySchema, got dict",
            id="not-a-property",
        ),
    ],
)
def test_validate_provider_checks_provider_schema(provider: FakeProvider, reason: str) -> None:
    """The provider schema must describe exactly the provider keyword with a PropertySchema."""
    with pytest.raises(InvalidProviderError) as excinfo:
        validate_provider(provider)
    assert f"provider 'p' is invalid: {reason}" == str(excinfo.value)


def test_validate_provider_checks_lifecycle() -> None:
    """An invalid lifecycle is refused with InvalidLifecycleError."""
    broken = Lifecycle(initial_stage="run", stages=(LifecycleStage(id="run", next_stages={"x"}),))
    with pytest.raises(InvalidLifecycleError, match="unknown next stage 'x'"):
        validate_provider(FakeProvider("p", stages=broken))


def test_missing_members_are_refused() -> None:
    """An object lacking provider members is refused, listing what a provider needs."""

    class Half:
        kind = "half"

    (failure,) = Registry.from_plugins([Plugin(Half())]).failures()
    assert failure.message.endswith(
        "provider 'half' is invalid: Half lacks 'lifecycle', 'load_schema', 'provider_keyword', "
        "'provider_schema', 'run_keyword'; a provider needs 'kind', 'lifecycle', 'load_schema', "
        "'provider_keyword', 'provider_schema', 'run_keyword'"
    )


def test_extensions_sorted_and_duplicates_per_scope_refused() -> None:
    """Extensions are sorted by scope and name; a name given twice in one scope is refused."""
    registry = Registry.from_plugins(
        [
            Plugin(backends=(Backend("docker", "image"), Backend("python", "python"))),
            Plugin(backends=(Backend("podman", "image"), Backend("docker", "image"))),
            Plugin(backends=(Backend("docker", "other"),)),
        ]
    )
    backends = registry.extensions(BACKENDS)
    names = [(backend.backend_type, backend.name) for backend in backends.items]
    assert [("image", "podman"), ("other", "docker"), ("python", "python")] == names
    (failure,) = backends.failures
    assert isinstance(failure.error, DuplicateExtensionError)
    assert (failure,) == registry.failures()
    assert (
        "backend 'docker' of backend type 'image' is provided 2 times: by <plugin Plugin> 0 "
        "(entry point 'Plugin') and by <plugin Plugin> 1 (entry point 'Plugin'); neither is used"
    ) == failure.message
    assert [
        {"backend": "podman", "backend_type": "image"},
        {"backend": "docker", "backend_type": "other"},
        {"backend": "python", "backend_type": "python"},
    ] == backends.records()


def test_core_and_extension_hooks_are_separate() -> None:
    """A module may implement core hooks and a group's hooks; neither set refuses the other,
    and a misspelled hook of either set is still a load failure."""

    class Both(Plugin):
        @backend_hookimpl
        def acme_backendz(self) -> list[Any]:
            return []

    registry = Registry.from_plugins([Plugin(FakeProvider("a"), backends=(Backend("b", "t"),))])
    assert ["a"] == [provider.kind for provider in registry.loaded_providers()]
    assert ["b"] == [backend.name for backend in registry.extensions(BACKENDS).items]
    broken = Registry.from_plugins([Both(FakeProvider("a"))])
    assert ["a"] == [provider.kind for provider in broken.loaded_providers()]
    assert () == broken.extensions(BACKENDS).items
    (failure,) = broken.failures()
    assert failure.message.startswith(
        "backend 'Both' from <plugin Both> 0 (entry point 'Both') failed to load: its hooks do "
        "not match BackendSpecs: unknown hook 'acme_backendz' in plugin"
    )
    assert failure.message.endswith("valid hooks: 'acme_backends'")


def test_an_extension_hook_with_the_wrong_marker_says_so() -> None:
    """A group's hook marked with another project's marker (``arcaflow_steps.hookimpl``) is a
    load failure that says which marker to use, not a silent 'offers nothing'."""

    class CoreMarked:
        @hookimpl
        def acme_backends(self) -> list[Any]:
            return [Backend("b", "t")]

    registry = Registry.from_plugins([CoreMarked()])
    assert () == registry.extensions(BACKENDS).items
    (failure,) = registry.extensions(BACKENDS).failures
    assert (
        "backend 'CoreMarked' from <plugin CoreMarked> 0 (entry point 'CoreMarked') failed to "
        "load: its acme_backends is not marked as a 'acme' hook implementation; decorate it "
        "with the hookimpl marker of BackendSpecs"
    ) == failure.message


class BackendOwner(FakeProvider):
    """A provider that loads backends of its own (an ``ExtensionOwner``)."""

    def extension_groups(self) -> tuple[ExtensionGroup, ...]:
        return (BACKENDS,)

    def extension_tables(self) -> tuple[ExtensionTable, ...]:
        return ()


def test_check_loads_the_extension_groups_of_loaded_providers() -> None:
    """``check()`` loads every group an ``ExtensionOwner`` declares and reports its failures;
    blocked entry points are left out."""
    registry = Registry(
        provider_entry_points=[entry_point("owner", f"{__name__}:OWNER")],
        extension_entry_points={
            BACKENDS.group: [
                entry_point("gone", "no_such_backend_module", BACKENDS.group),
                entry_point("blocked", "no_such_module_either", BACKENDS.group),
            ]
        },
        blocked=["blocked"],
    )
    assert () == registry.loaded_extensions()
    assert [
        "backend 'gone' from demo-steps 0.1 (entry point 'gone') failed to load: importing "
        "'no_such_backend_module' raised ModuleNotFoundError: No module named "
        "'no_such_backend_module'"
    ] == [failure.message for failure in registry.check()]
    assert (BACKENDS,) == tuple(loaded.group for loaded in registry.loaded_extensions())


def test_provider_context_loads_an_extension_group_lazily_once() -> None:
    """A provider's extension group is loaded when first asked for, then cached."""
    calls: list[int] = []

    class Counting:
        @backend_hookimpl
        def acme_backends(self) -> list[Any]:
            calls.append(1)
            return [Backend("a", "t")]

    contexts: list[ProviderContext] = []

    class Asking(Plugin):
        @hookimpl
        def arcaflow_steps_providers(self, context: ProviderContext) -> list[Any]:
            contexts.append(context)
            return [FakeProvider("asking")]

    registry = Registry.from_plugins([Asking(), Counting()])
    assert [] == calls
    (context,) = contexts
    assert context.extensions(BACKENDS) is context.extensions(BACKENDS)
    assert [1] == calls
    assert () == registry.failures()


def test_observer_failure_is_logged_and_others_still_notified(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An observer that raises is logged; the other observers still see the event."""
    seen: list[Any] = []

    class Failing:
        @hookimpl
        def arcaflow_steps_stage_changed(self, event: Any) -> None:
            raise RuntimeError("observer bug")

    class Recording:
        @hookimpl
        def arcaflow_steps_stage_changed(self, event: Any) -> None:
            seen.append(event)

        @hookimpl
        def arcaflow_steps_step_completed(self, result: Any) -> None:
            seen.append(("result", result))

    registry = Registry.from_plugins([Failing(), Recording()])
    event = StepEvent(step_id="s", sequence=1, kind=StepEventKind.STAGE_CHANGED, stage="run")
    result = StepResult(
        step_id="s", stage="done", output_id="ok", output_data={}, is_error=False, events=(event,)
    )
    with caplog.at_level(logging.ERROR, logger="arcaflow_steps.registry"):
        registry.observers().on_event(event)
        registry.observers().on_result(result)
    assert [event, ("result", result)] == seen
    assert "observer arcaflow_steps_stage_changed" in caplog.text


def test_close_closes_loaded_providers() -> None:
    """``close()`` calls ``close()`` on every loaded provider."""
    provider = FakeProvider("c")
    registry = Registry.from_plugins([Plugin(provider)])
    registry.close()
    assert 1 == provider.closed


def test_step_definition_json_schema_validates_definitions() -> None:
    """The JSON Schema accepts valid definitions and step maps and refuses unknown keys."""
    registry = Registry.from_plugins([Plugin(FakeProvider("a"), FakeProvider("b"))])
    schema = registry.step_definition_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = {"kind": "a", "config": {"name": "x"}, "input": {"anything": 1}}
    assert [] == list(validator.iter_errors(good))
    assert [] == list(validator.iter_errors({"steps": {"one": good}}))
    assert [] != list(validator.iter_errors({**good, "extra": 1}))
    assert [] != list(validator.iter_errors({"kind": "a", "config": {"name": 1}}))
    assert [] != list(validator.iter_errors({"kind": "nope"}))


def test_from_entry_points_honours_blocked_names() -> None:
    """Blocked entry points (argument or environment) are not part of the registry."""
    registry = Registry.from_entry_points(
        blocked=["plugin"], environ={"ARCAFLOW_STEPS_DISABLE_PLUGINS": "dummy"}
    )
    assert {"dummy", "plugin"}.isdisjoint(registry.kinds())
    assert {"dummy", "plugin"} <= registry.blocked()


def test_parse_blocked_splits_commas_and_ignores_blanks() -> None:
    """Blocked names come from the environment and extras, comma-separated, blanks ignored."""
    assert frozenset({"a", "b", "c"}) == parse_blocked(
        {"ARCAFLOW_STEPS_DISABLE_PLUGINS": " a, ,b"}, ["c,", ""]
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "steps.yaml"], False),
        (["workflow", "-context", ".", "-input", "in.yaml"], False),
        (["run", "--", "-p"], False),  # after "--": an argument, not an option
        (["run", "--parallelism", "2", "steps.yaml"], False),
        (["-p", "no:echo", "run", "steps.yaml"], True),
        (["-pno:echo", "run"], True),
        (["run", "--disable-plugin", "echo"], True),
        (["run", "--disable-plugin=echo"], True),
        (["workflow", "-disable-plugin", "echo"], True),
        (["workflow", "--p=no:echo"], True),
    ],
)
def test_blocking_options_are_spotted_before_parsing(argv: list[str], expected: bool) -> None:
    """The start-up seed is planted before the arguments are parsed: any token that may be a
    blocking option (argparse or Go ``flag`` style) counts."""
    assert expected == mentions_blocking_options(argv)


def test_builtin_kinds_load_from_entry_points() -> None:
    """The built-in kinds register through the same entry points as any third party."""
    registry = Registry.from_entry_points(environ={})
    sources = {info.name: info.distribution for info in registry.entries()}
    assert "arcaflow-steps" == sources["dummy"] == sources["plugin"]
    assert "dummy" == registry.get("dummy").kind
    registry.close()


def entry_point(name: str, value: str, group: str = "arcaflow.step_providers") -> EntryPointInfo:
    return EntryPointInfo(
        group=group, name=name, value=value, distribution="demo-steps", version="0.1"
    )


class RaisingAny(FakeProvider):
    def any(self) -> FakeProvider:
        raise RuntimeError("no adapter")


class RaisingLifecycle(FakeProvider):
    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        raise RuntimeError("no lifecycle")


class RaisingClose(FakeProvider):
    def close(self) -> None:
        raise RuntimeError("cannot close")


ADAPT_FAILS = Plugin(RaisingAny("adapt"))
VALIDATE_FAILS = Plugin(RaisingLifecycle("validate"))
CLOSE_FAILS = Plugin(RaisingClose("closing"))
OWNER = Plugin(BackendOwner("owner"))


@pytest.mark.parametrize(
    ("kind", "value", "cause"),
    [
        pytest.param(
            "adapt",
            f"{__name__}:ADAPT_FAILS",
            "adapting a provider raised RuntimeError: no adapter",
            id="any-raises",
        ),
        pytest.param(
            "validate",
            f"{__name__}:VALIDATE_FAILS",
            "validating the provider raised RuntimeError: no lifecycle",
            id="lifecycle-raises",
        ),
        pytest.param(
            "missing",
            "no_such_module_for_arcaflow_tests",
            "importing 'no_such_module_for_arcaflow_tests' raised ModuleNotFoundError: No module "
            "named 'no_such_module_for_arcaflow_tests'",
            id="import-fails",
        ),
    ],
)
def test_provider_bugs_become_load_failures(kind: str, value: str, cause: str) -> None:
    """A provider that raises while loaded or validated is a load failure naming the cause."""
    registry = Registry(provider_entry_points=[entry_point(kind, value)])
    with pytest.raises(ProviderLoadError) as excinfo:
        registry.get(kind)
    assert (
        f"provider for kind {kind!r} from demo-steps 0.1 (entry point {kind!r}) failed to load: "
        f"{cause}"
    ) == str(excinfo.value)
    with pytest.raises(ProviderLoadError):  # the failure is remembered, not retried
        registry.get(kind)


def test_invalid_entry_point_name_is_a_metadata_failure() -> None:
    """An entry point whose name is not a valid kind is reported from metadata alone."""
    registry = Registry(provider_entry_points=[entry_point("Bad Kind", "x")])
    (failure,) = registry.metadata_failures()
    assert (
        "provider for kind 'Bad Kind' from demo-steps 0.1 (entry point 'Bad Kind') failed to "
        "load: entry point name 'Bad Kind' is not a valid kind; use lowercase [a-z][a-z0-9_-]*"
    ) == failure.message


def test_extension_and_observer_import_failures_are_reported() -> None:
    """Extension and observer packages that fail to import are check failures, not crashes."""
    registry = Registry(
        extension_entry_points={
            BACKENDS.group: [entry_point("gone", "no_such_backend_module", BACKENDS.group)]
        },
        observer_entry_points=[entry_point("spy", "no_such_observer_module", "observers")],
    )
    assert () == registry.extensions(BACKENDS).items
    messages = [failure.message for failure in registry.check()]
    assert [
        "backend 'gone' from demo-steps 0.1 (entry point 'gone') failed to load: importing "
        "'no_such_backend_module' raised ModuleNotFoundError: No module named "
        "'no_such_backend_module'",
        "observer 'spy' from demo-steps 0.1 (entry point 'spy') failed to load: importing "
        "'no_such_observer_module' raised ModuleNotFoundError: No module named "
        "'no_such_observer_module'",
    ] == messages


def test_close_survives_a_provider_that_raises(caplog: pytest.LogCaptureFixture) -> None:
    """``close()`` logs a provider whose close raises and goes on."""
    registry = Registry(provider_entry_points=[entry_point("closing", f"{__name__}:CLOSE_FAILS")])
    registry.get("closing")
    with caplog.at_level(logging.ERROR, logger="arcaflow_steps.registry"):
        registry.close()
    assert "closing provider 'closing' raised; ignored" in caplog.text


def test_blocked_kind_says_it_is_blocked() -> None:
    """Asking for a blocked kind says so (and how it was blocked), listing the valid kinds."""
    registry = Registry.from_entry_points(environ={"ARCAFLOW_STEPS_DISABLE_PLUGINS": "dummy"})
    with pytest.raises(BlockedKindError) as excinfo:
        registry.get("dummy", step_id="hello")
    assert str(excinfo.value).startswith(
        "provider kind 'dummy' in step 'hello' is blocked (ARCAFLOW_STEPS_DISABLE_PLUGINS or "
        "-p no:dummy); valid kinds: "
    )
    assert isinstance(excinfo.value, UnknownKindError)


class HalfOwner(FakeProvider):
    """Declares its extension groups but not how ``describe`` shows them."""

    def extension_groups(self) -> tuple[ExtensionGroup, ...]:
        return (BACKENDS,)


class FlagCloser(FakeProvider):
    """A ``close`` that is a flag, not a method."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.close = True  # type: ignore[assignment,method-assign]


class StringHints(FakeProvider):
    schema_hint_fields = "deploy"


class NumberHints(FakeProvider):
    schema_hint_fields = frozenset({1})


@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        pytest.param(
            HalfOwner("p"),
            "it has extension_groups but not extension_tables; arcaflow_steps.ExtensionOwner "
            "needs both, or neither",
            id="half-extension-owner",
        ),
        pytest.param(FlagCloser("p"), "close must be a method, got bool", id="close-not-callable"),
        pytest.param(
            StringHints("p"),
            "schema_hint_fields must be a set of stage input field names "
            "(arcaflow_steps.SchemaHintProvider), got 'deploy'",
            id="hints-a-string",
        ),
        pytest.param(
            NumberHints("p"),
            "schema_hint_fields must be a set of stage input field names "
            "(arcaflow_steps.SchemaHintProvider), got frozenset({1})",
            id="hints-not-strings",
        ),
    ],
)
def test_optional_members_are_checked_at_registration(provider: FakeProvider, reason: str) -> None:
    """An optional member (SchemaHintProvider, ClosableProvider, ExtensionOwner) of the wrong
    shape refuses the provider when it registers, instead of failing or being skipped later."""
    (failure,) = Registry.from_plugins([Plugin(provider)]).failures()
    assert (
        "provider for kind 'p' from <plugin Plugin> 0 (entry point 'Plugin') failed to load: "
        f"provider 'p' is invalid: {reason}"
    ) == failure.message


def test_optional_protocols_are_not_runtime_checkable() -> None:
    """The optional-member protocols are read by name after registration checked them, so
    ``isinstance`` against them is refused (STYLE: no runtime_checkable just for isinstance)."""
    from arcaflow_steps import ClosableProvider, ExtensionOwner, SchemaHintProvider

    for protocol in (ClosableProvider, ExtensionOwner, SchemaHintProvider):
        with pytest.raises(TypeError):
            isinstance(FakeProvider("p"), protocol)
