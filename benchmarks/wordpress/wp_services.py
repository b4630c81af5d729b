"""A private WordPress stack on loopback: MariaDB, PHP-FPM and nginx from Debian's packages.

This module owns the Debian packages the check needs, the stack's own config files,
sockets, pid files and logs (all in one state directory), and starting and stopping
the three servers. It leaves no system service behind: the servers run as children of
the check with their own configs (MariaDB on a Unix socket only, PHP-FPM on a Unix
socket, nginx on ``127.0.0.1:PORT``), ``apt-get`` runs with ``policy-rc.d`` refusing
service starts, and a stack left over by a killed run is stopped by its pid files
before a new one starts. It knows nothing about the blog's content.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = [
    "CONFIG_PREFIX",
    "PACKAGES",
    "WORDPRESS",
    "Stack",
    "ensure_packages",
    "running_stack",
    "stop_leftovers",
]

WORDPRESS = Path("/usr/share/wordpress")
THEME = Path("/usr/share/wordpress/wp-content/themes/twentytwentyone")
# Debian's wp-config.php reads /etc/wordpress/config-$WORDPRESS_CONFIG.php (the name
# must match ^[a-zA-Z0-9-]+$); nginx and the PHP scripts set WORDPRESS_CONFIG. One file
# per port (Stack.config_name), so two stacks on two ports never share a config.
CONFIG_PREFIX = "migrator-wpcheck"

# dpkg package -> why. mariadb-client gives the `mariadb` command for set-up.
PACKAGES: tuple[str, ...] = (
    "wordpress",
    "wordpress-theme-twentytwentyone",
    "mariadb-server",
    "mariadb-client",
    "php-fpm",
    "php-cli",
    "php-mysql",
    "php-gd",
    # SimpleXML: without it wp-sitemap.xml answers 501 (a sitemap is what most real
    # WordPress blogs offer crawlers); mbstring for the non-ASCII titles and slugs.
    "php-xml",
    "php-mbstring",
    "nginx",
)
_POLICY_RC = Path("/usr/sbin/policy-rc.d")


def _installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() == "install ok installed"


def ensure_packages(packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Install the missing Debian packages without letting them start services.

    Returns:
        The packages that were installed (empty when all were there).
    """
    missing = [p for p in packages if not _installed(p)]
    if not missing:
        return []
    if os.geteuid() != 0:
        raise SystemExit(f"missing Debian packages (run as root to install): {missing}")
    # policy-rc.d exiting 101 is Debian's switch for "do not start services from
    # maintainer scripts": mariadb-server and nginx would otherwise start system-wide.
    own_policy = not _POLICY_RC.exists()
    if own_policy:
        _POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
        _POLICY_RC.chmod(0o755)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        # The lock timeout waits for another engineer's apt-get on a shared machine.
        subprocess.run(
            [
                "apt-get",
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "-o",
                "DPkg::Lock::Timeout=600",
                *missing,
            ],
            check=True,
            env=env,
        )
    finally:
        if own_policy:
            _POLICY_RC.unlink()
    return missing


@dataclass(frozen=True, slots=True, kw_only=True)
class Stack:
    """Where one WordPress stack lives: its state directory and its loopback port."""

    state: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def mysql_socket(self) -> Path:
        return self.state / "run" / "mysqld.sock"

    @property
    def fpm_socket(self) -> Path:
        return self.state / "run" / "php-fpm.sock"

    @property
    def datadir(self) -> Path:
        return self.state / "mysql"

    @property
    def content_dir(self) -> Path:
        return self.state / "wp-content"

    @property
    def config_name(self) -> str:
        return f"{CONFIG_PREFIX}-{self.port}"

    @property
    def config_file(self) -> Path:
        return Path(f"/etc/wordpress/config-{self.config_name}.php")

    def pid_file(self, name: str) -> Path:
        return self.state / "run" / f"{name}.pid"

    def mysql(self, sql: str) -> str:
        """Run SQL as MariaDB's root over the private socket; return stdout."""
        result = subprocess.run(
            [
                "mariadb",
                "--no-defaults",
                f"--socket={self.mysql_socket}",
                "-uroot",
                "--batch",
                "--skip-column-names",
                "-e",
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout


# Debian's /etc/nginx/fastcgi_params sends HTTP_HOST as $host, which drops the port:
# WordPress then redirects every URL to itself with the port (a redirect loop).
_FASTCGI_PARAMS = "\n".join(
    f"            fastcgi_param {name} {value};"
    for name, value in (
        ("QUERY_STRING", "$query_string"),
        ("REQUEST_METHOD", "$request_method"),
        ("CONTENT_TYPE", "$content_type"),
        ("CONTENT_LENGTH", "$content_length"),
        ("SCRIPT_NAME", "$fastcgi_script_name"),
        ("REQUEST_URI", "$request_uri"),
        ("DOCUMENT_URI", "$document_uri"),
        ("DOCUMENT_ROOT", "$document_root"),
        ("SERVER_PROTOCOL", "$server_protocol"),
        ("REQUEST_SCHEME", "$scheme"),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("SERVER_SOFTWARE", "nginx"),
        ("REMOTE_ADDR", "$remote_addr"),
        ("REMOTE_PORT", "$remote_port"),
        ("SERVER_ADDR", "$server_addr"),
        ("SERVER_PORT", "$server_port"),
        ("SERVER_NAME", "$server_name"),
        ("REDIRECT_STATUS", "200"),
        ("HTTP_HOST", "$http_host"),
    )
)


def _write_configs(stack: Stack) -> None:
    state = stack.state
    for sub in (
        "run",
        "logs",
        "nginx-tmp",
        "wp-content/themes",
        "wp-content/uploads",
        "wp-content/plugins",
    ):
        (state / sub).mkdir(parents=True, exist_ok=True)
    # The workers (www-data) read the state directory and write nothing but sockets.
    for folder in (state, *[p for p in state.rglob("*") if p.is_dir() and p.name != "mysql"]):
        folder.chmod(0o755)
    theme_link = stack.content_dir / "themes" / THEME.name
    if not theme_link.exists():
        theme_link.symlink_to(THEME)
    (stack.content_dir / "uploads").chmod(0o777)
    (state / "php-fpm.conf").write_text(
        f"""[global]
pid = {stack.pid_file("php-fpm")}
error_log = {state}/logs/php-fpm.log
daemonize = no

[wpcheck]
user = www-data
group = www-data
listen = {stack.fpm_socket}
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = static
pm.max_children = 6
catch_workers_output = yes
php_admin_value[error_log] = {state}/logs/php-errors.log
php_admin_flag[log_errors] = on
"""
    )
    (state / "nginx.conf").write_text(
        f"""user www-data;
worker_processes 1;
daemon off;
pid {stack.pid_file("nginx")};
error_log {state}/logs/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {state}/logs/nginx-access.log;
    client_body_temp_path {state}/nginx-tmp/body;
    fastcgi_temp_path {state}/nginx-tmp/fastcgi;
    proxy_temp_path {state}/nginx-tmp/proxy;
    uwsgi_temp_path {state}/nginx-tmp/uwsgi;
    scgi_temp_path {state}/nginx-tmp/scgi;
    server {{
        listen 127.0.0.1:{stack.port};
        server_name 127.0.0.1;
        root {WORDPRESS};
        index index.php;
        location /wp-content/ {{ alias {stack.content_dir}/; }}
        location / {{ try_files $uri $uri/ /index.php?$args; }}
        location ~ \\.php$ {{
            try_files $uri =404;
{_FASTCGI_PARAMS}
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param WORDPRESS_CONFIG {stack.config_name};
            fastcgi_pass unix:{stack.fpm_socket};
        }}
    }}
}}
"""
    )


def write_wordpress_config(stack: Stack) -> None:
    """Write Debian's per-site WordPress config for this stack (database, URLs, paths)."""
    config_file = stack.config_file
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(
        f"""<?php
// Written by migrator's benchmarks/wordpress/wpcheck.py: a throwaway local test blog.
define('DB_NAME', 'wpcheck');
define('DB_USER', 'wpcheck');
define('DB_PASSWORD', 'wpcheck');
define('DB_HOST', 'localhost:{stack.mysql_socket}');
define('WP_HOME', 'http://{stack.host}');
define('WP_SITEURL', 'http://{stack.host}');
define('WP_CONTENT_DIR', '{stack.content_dir}');
define('WP_CONTENT_URL', 'http://{stack.host}/wp-content');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('FS_METHOD', 'direct');
define('AUTH_KEY', 'wpcheck-a'); define('SECURE_AUTH_KEY', 'wpcheck-b');
define('LOGGED_IN_KEY', 'wpcheck-c'); define('NONCE_KEY', 'wpcheck-d');
define('AUTH_SALT', 'wpcheck-e'); define('SECURE_AUTH_SALT', 'wpcheck-f');
define('LOGGED_IN_SALT', 'wpcheck-g'); define('NONCE_SALT', 'wpcheck-h');
"""
    )
    config_file.chmod(0o644)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (stopped, not yet reaped by its parent) is not running.
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def stop_leftovers(stack: Stack) -> list[str]:
    """Stop servers a killed earlier run left behind, found by *this* stack's pid files."""
    stopped = []
    for name in ("nginx", "php-fpm", "mysqld"):
        pid_file = stack.pid_file(name)
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        cmdline = Path(f"/proc/{pid}/cmdline")
        # Only a process whose command line names this state directory is ours.
        if _pid_alive(pid) and cmdline.exists() and str(stack.state) in cmdline.read_text():
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not _pid_alive(pid):
                    break
                time.sleep(0.1)
            stopped.append(name)
        pid_file.unlink(missing_ok=True)
    return stopped


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_for(
    what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail}")
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready in 60 s (see {log})")


def _port_open(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running_stack(stack: Stack) -> Iterator[Stack]:
    """Start MariaDB, PHP-FPM and nginx for ``stack``; stop all three on exit.

    Raises:
        RuntimeError: a server did not start (its log's tail is in the message), or the
            port is taken by something else.
    """
    stop_leftovers(stack)
    if _port_open(stack.port):
        raise RuntimeError(f"127.0.0.1:{stack.port} is already in use: pick --port")
    _write_configs(stack)
    write_wordpress_config(stack)
    logs = stack.state / "logs"
    procs: list[subprocess.Popen[bytes]] = []
    # SIGTERM (a timeout, `kill`) must still run the finally block below.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if not (stack.datadir / "mysql").is_dir():
            shutil.rmtree(stack.datadir, ignore_errors=True)
            subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    f"--datadir={stack.datadir}",
                    "--user=root",
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=(logs / "mariadb-install.log").open("wb"),
            )
        mysql_log = logs / "mariadb.log"
        mysqld = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={stack.datadir}",
                f"--socket={stack.mysql_socket}",
                f"--pid-file={stack.pid_file('mysqld')}",
                "--skip-networking",
                "--user=root",
                f"--log-error={mysql_log}",
                "--innodb-buffer-pool-size=128M",
                "--skip-log-bin",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(mysqld)
        _wait_for("mariadbd", stack.mysql_socket.exists, mysqld, mysql_log)
        fpm_bin = sorted(Path("/usr/sbin").glob("php-fpm*"))[-1]
        fpm = subprocess.Popen(
            [str(fpm_bin), "--nodaemonize", f"--fpm-config={stack.state / 'php-fpm.conf'}"],
            stdout=subprocess.DEVNULL,
            stderr=(logs / "php-fpm.out").open("wb"),
        )
        procs.append(fpm)
        _wait_for("php-fpm", stack.fpm_socket.exists, fpm, logs / "php-fpm.log")
        nginx = subprocess.Popen(
            ["nginx", "-c", str(stack.state / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=(logs / "nginx.out").open("wb"),
        )
        procs.append(nginx)
        _wait_for("nginx", lambda: _port_open(stack.port), nginx, logs / "nginx-error.log")
        yield stack
    finally:
        # nginx: SIGQUIT is the graceful stop; php-fpm: SIGQUIT too; mariadbd: SIGTERM.
        for proc in reversed(procs):
            _stop(proc, signal.SIGTERM if proc is procs[0] else signal.SIGQUIT)
        signal.signal(signal.SIGTERM, previous)
