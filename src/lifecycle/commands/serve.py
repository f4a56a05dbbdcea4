"""Verb `serve`: serve a built Bento on host:port, in the foreground or in the background."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Serve the Bento of a model version (foreground, or --background with a readiness wait)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--bento", help="the Bento tag to serve (default: the version's Bento)")
    which.add_argument("--version", help="serve the Bento built from this model version")
    which.add_argument(
        "--alias", help="serve the Bento of this alias's version (default: candidate)"
    )
    parser.add_argument("--host", help="address to listen on (default: serving.host)")
    parser.add_argument("--port", type=int, help="port (default: serving.port; 0 picks a free one)")
    parser.add_argument(
        "--background",
        action="store_true",
        help="start, wait until /readyz answers, print the URL and process id, and return",
    )
    parser.add_argument(
        "--log",
        type=Path,
        default=Path("reports/serve.log"),
        help="the server's output with --background (default: reports/serve.log)",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.deploy import store
    from lifecycle.github import actions
    from lifecycle.serving import bento, server
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    serving = settings.serving
    home = bento.use_local_home()
    built = bento.find_bento(settings, args.bento, args.version or args.alias)
    host = args.host or serving.host
    port = serving.port if args.port is None else args.port
    port = port or server.free_port(host)
    predictions = serving.prediction_log.path
    if not args.background:
        store.check(home, built.tag)  # tampered: one line and exit 2, not the server's traces
        print(f"serving {built.tag} (model version {built.model_version}) on http://{host}:{port}")
        return server.foreground(built.tag, host, port, predictions)
    started = server.start(built.tag, host, port, args.log, predictions)
    try:
        server.wait_ready(started, serving.startup_timeout_s)
    except BaseException:
        server.stop(started)
        raise
    print(f"serving {built.tag} (model version {built.model_version}) at {started.url}")
    print(f"process group {started.process.pid}; log {args.log}")
    print(f"stop it with: kill -TERM -- -{started.process.pid}")
    actions.set_output("url", started.url)
    actions.set_output("pid", str(started.process.pid))
    actions.set_output("bento-tag", built.tag)
    return 0
