"""Helpers shared by the container deployer tests (not a test module).

The engines and images come from ``.ci/containers.sh`` (dockerd, podman configuration) and
``images/build-test-image.sh`` (one image ``arcaflow-steps-test/<module>:latest`` per test
plugin module). Tests that need an engine call :func:`require_docker` / :func:`require_podman`,
which skip with the reason — or fail under ``--require-container-engines``. The first of them
in a session runs ``images/build-test-image.sh --if-base-present``, so an edited plugin module
is in its image (a few seconds; nothing when up to date).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

IMAGE_PREFIX = "arcaflow-steps-test"
OWNER = "org.arcaflow-steps.owner-pid"
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "images" / "build-test-image.sh"
PROXY_HANDSHAKE_TIMEOUT = 5.0
BUILD_HINT = "run `bash .ci/containers.sh` (starts dockerd, builds the test images)"


def image(module: str) -> str:
    """Return the test image of a plugin module in tests/plugins."""
    return f"{IMAGE_PREFIX}/{module}:latest"


@functools.cache
def docker_problem() -> str | None:
    """Return why the Docker tests cannot run here, or None when they can."""
    try:
        import docker
    except ImportError:
        return "the docker package is not installed (pip install 'arcaflow-steps[docker]')"
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://") and not os.path.exists(host[len("unix://") :]):
        # (checked first: docker-py leaks the socket of a failed unix connection)
        return f"no Docker engine reachable (no socket {host!r}); {BUILD_HINT}"
    try:
        client = docker.from_env(timeout=5)
        try:
            client.images.get(image("plugin_steps"))
        finally:
            client.close()
    except docker.errors.ImageNotFound:
        return f"test image {image('plugin_steps')!r} is missing; {BUILD_HINT}"
    except Exception as exc:
        return f"no Docker engine reachable ({exc}); {BUILD_HINT}"
    return refresh_images()


@functools.cache
def refresh_images() -> str | None:
    """Rebuild the plugin images if tests/plugins/ changed (seconds); None when up to date."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--if-base-present"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        return f"refreshing the test images failed: {result.stderr.strip()[-1000:]}"
    return None


@functools.cache
def podman_problem() -> str | None:
    """Return why the podman tests cannot run here, or None when they can."""
    podman = shutil.which("podman")
    if podman is None:
        return "podman is not installed"
    if docker_problem() is None:  # the images reach podman through Docker (docker save)
        refresh_images()
    result = subprocess.run(
        [podman, "image", "exists", image("plugin_steps")], capture_output=True, check=False
    )
    if result.returncode != 0:
        return f"test image {image('plugin_steps')!r} is missing in podman; {BUILD_HINT}"
    return None


def require_or_skip(config: pytest.Config, reason: str) -> None:
    """Skip with ``reason``, or fail when ``--require-container-engines`` is given (CI)."""
    if config.getoption("--require-container-engines"):
        pytest.fail(f"container engine required but unavailable: {reason}")
    pytest.skip(reason)


def require_docker(config: pytest.Config) -> None:
    """Skip (or fail under --require-container-engines) unless Docker tests can run."""
    problem = docker_problem()
    if problem is not None:
        require_or_skip(config, problem)


def require_podman(config: pytest.Config) -> None:
    """Skip (or fail under --require-container-engines) unless podman tests can run."""
    problem = podman_problem()
    if problem is not None:
        require_or_skip(config, problem)


def our_containers(engine: str) -> list[str]:
    """Return the names of containers (running or not) started by this process."""
    return containers_of_pid(engine, os.getpid())


def containers_of_pid(engine: str, pid: int) -> list[str]:
    """Return the names of containers started by process ``pid``."""
    result = subprocess.run(
        [
            engine,
            "ps",
            "--all",
            "--filter",
            f"label=org.arcaflow-steps.owner-pid={pid}",
            "--format",
            "{{.Names}}",
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())


def owner_labels(pid: int) -> dict[str, str]:
    """Return the owner labels a container started by process ``pid`` must carry.

    Computed here from /proc, independently of the deployers' own code.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    return {
        "org.arcaflow-steps.owner-pid": str(pid),
        "org.arcaflow-steps.owner-start": stat.rsplit(")", 1)[1].split()[19],
        "org.arcaflow-steps.owner-boot-id": Path("/proc/sys/kernel/random/boot_id")
        .read_text()
        .strip(),
        "org.arcaflow-steps.owner-pid-ns": str(os.stat("/proc/self/ns/pid").st_ino),
        "org.arcaflow-steps.owner-host": socket.gethostname(),
    }


def plant(engine: str, labels: dict[str, str], *, start: bool = True) -> str:
    """Create (and start) a sleeping container with ``labels``, as a dead run would leave it."""
    arguments = [engine, "create", "--entrypoint", "python3"]
    for key, value in labels.items():
        arguments += ["--label", f"{key}={value}"]
    arguments += [image("plugin_steps"), "-c", "import time; time.sleep(300)"]
    container_id = subprocess.run(arguments, capture_output=True, check=True, text=True)
    planted = container_id.stdout.strip()
    if start:
        subprocess.run([engine, "start", planted], capture_output=True, check=True)
    return planted


def exists(engine: str, container_id: str) -> bool:
    """Return whether a container exists (in any state)."""
    result = subprocess.run(
        [engine, "container", "inspect", container_id], capture_output=True, check=False
    )
    return result.returncode == 0


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds; return the seconds it took; fail after ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what} after {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def inspect(engine: str, name: str) -> dict[str, object]:
    """Return ``<engine> inspect NAME`` as a dict."""
    result = subprocess.run([engine, "inspect", name], capture_output=True, check=True, text=True)
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    first = data[0]
    assert isinstance(first, dict)
    return first


def make_tls_files(directory: Path) -> dict[str, Path]:
    """Write a throw-away CA, a server certificate for 127.0.0.1 and a client certificate."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")

    def run(*arguments: str) -> None:
        subprocess.run([openssl, *arguments], cwd=directory, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=arcaflow-steps test CA")  # fmt: skip
    for name, extension in (
        ("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        (directory / f"{name}.ext").write_text(extension.replace("\\n", "\n") + "\n")
        run("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "1",
            "-extfile", f"{name}.ext")  # fmt: skip
    return {name: directory / name for name in ("ca.pem", "server.pem", "server.key",
                                                "client.pem", "client.key")}  # fmt: skip


@contextlib.contextmanager
def tcp_proxy_to(unix_path: str, *, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``tcp://127.0.0.1:<port>`` forwarding every connection to a unix socket.

    A stand-in for a remote daemon: the docker client really speaks HTTP over TCP (with the
    hijacked attach stream and its half-close) without reconfiguring dockerd. With ``tls``,
    connections are TLS (a server context, possibly requiring client certificates).

    On exit every connection is shut down and every thread of the proxy has ended before a
    socket is closed: a thread still blocked in a TLS read keeps using the raw descriptor
    number OpenSSL was given, so once that number is reused (by the next test's attach
    socket, say) it would read and write on someone else's connection (it wrote TLS alert
    bytes into a plugin container's stdin: the plugin decoded an int where it wanted a map).
    """
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()
    lock = threading.Lock()  # guards opened and threads
    opened: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with lock:
            threads.append(thread)
        thread.start()

    def pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
            if not isinstance(target, ssl.SSLSocket):
                target.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def handle(client: socket.socket) -> None:
        with lock:
            opened.append(client)
        if tls is not None:
            client.settimeout(PROXY_HANDSHAKE_TIMEOUT)  # exit joins this thread
            try:
                wrapped = tls.wrap_socket(client, server_side=True)
            except OSError:
                return
            wrapped.settimeout(None)
            with lock:  # wrap_socket() moved the descriptor into the TLS socket
                opened[opened.index(client)] = wrapped
            client = wrapped
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with lock:
            opened.append(upstream)
        try:
            upstream.connect(unix_path)
        except OSError:
            return
        for source, target in ((client, upstream), (upstream, client)):
            start(pump, source, target)

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            start(handle, client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(2)
        server.close()
        deadline = time.monotonic() + PROXY_HANDSHAKE_TIMEOUT + 5.0
        while True:  # handle threads may still add sockets and pumps
            with lock:
                running = [started for started in threads if started.is_alive()]
                sockets = list(opened)
            if not running:
                break
            for sock in sockets:  # wakes blocked reads: recv returns EOF
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            running[0].join(max(deadline - time.monotonic(), 0.0))
            if time.monotonic() >= deadline:
                raise AssertionError(f"tcp proxy threads still running: {running}")
        for sock in sockets:
            sock.close()


@contextlib.contextmanager
def ssh_server(directory: Path) -> Iterator[tuple[str, Path]]:
    """Run a throw-away sshd on 127.0.0.1 that lets root in with a fresh key.

    Yields the ``ssh://root@127.0.0.1:<port>`` address and a directory holding an ``ssh``
    wrapper (put it first on PATH) that uses that key and skips host key checks, so docker-py
    (which runs the ``ssh`` command) reaches the local daemon through a real SSH hop.
    """
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    ssh = shutil.which("ssh")
    if ssh is None or not os.path.exists(sshd):
        pytest.skip("ssh or sshd not installed (apt-get install openssh-server)")
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)],
            check=True,
        )
    (directory / "authorized_keys").write_bytes((directory / "client_key.pub").read_bytes())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (directory / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        f"StrictModes no\nPidFile {directory / 'sshd.pid'}\n"
    )
    (directory / "ssh_config").write_text(
        f"Host *\n  IdentityFile {directory / 'client_key'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {ssh} -F {directory / "ssh_config"} "$@"\n')
    wrapper.chmod(0o755)
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    with subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(directory / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as server:
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                assert server.poll() is None, "sshd exited"
                assert time.monotonic() < deadline, "sshd did not listen"
                time.sleep(0.05)
            yield f"ssh://root@127.0.0.1:{port}", bin_dir
        finally:
            server.terminate()
            server.wait(10)
