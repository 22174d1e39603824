"""`firstapp`: the course's command line (up, down, status, grade).

Exit status: 0 success (every check passed), 1 some check failed, 2 unusable input or
environment, with one message on stderr and never a traceback (`--debug` shows it).

This is the CLI's error boundary, and a command users wait for: modules are imported
only by the subcommand that needs them, so `--help` and `grade --static` never load
the Kubernetes client.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.errors import UnusableInput

if TYPE_CHECKING:
    from course.cluster import Cluster
from course.labs import LABS

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firstapp", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    grade = commands.add_parser("grade", help="grade a lab checkpoint")
    grade.add_argument("lab", metavar="LAB", help=", ".join(LABS))
    grade.add_argument("--manifests", metavar="PATH",
                       help="file, directory or - for stdin; with --static the default is stdin, "
                            "live the default is what is applied in the namespace")
    grade.add_argument("--namespace", metavar="NS", help="default: the context's namespace")
    grade.add_argument("--context", metavar="CTX", help="kubeconfig context (default: the current one)")
    grade.add_argument("--static", action="store_true", help="layer 1 only: the YAML, no cluster needed")
    grade.add_argument("--node-port", metavar="PORT", type=int,
                       help="with --static: the class learner's node port, as the lab prints it (default 30080)")
    grade.add_argument("--host", metavar="NAME",
                       help="with --static: the class learner's ingress host, as the lab prints it "
                            "(default firstapp.localhost)")
    grade.add_argument("--allow-disruption", action="store_true",
                       help="let checkpoint-2 delete one web pod to see it replaced")
    grade.add_argument("--all-namespaces", action="store_true",
                       help="grade every namespace matching --selector (a class), into one report")
    grade.add_argument("--selector", metavar="LABEL", help="namespace label selector, with --all-namespaces")
    grade.add_argument("--format", choices=("text", "json", "junit", "gradescope", "csv"), default="text",
                       help="csv is for --all-namespaces")
    grade.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    grade.set_defaults(run=_grade)

    _class_parser(commands)

    for name, text in (("up", "create or start the course's cluster, load the app's images, open JupyterLab"),
                       ("down", "stop the course's cluster"),
                       ("status", "show the cluster's components and whether the app answers")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--provider", choices=("kind", "local"),
                         help="default: kind where Docker and kind work, else local (Linux, root)")
        if name == "up":
            sub.add_argument("--with-app", action="store_true", help="deploy the reference application")
            sub.add_argument("--no-lab", action="store_true", help="do not open JupyterLab")
        sub.set_defaults(run=_cluster_command)
    return parser


def _class_parser(commands: argparse._SubParsersAction) -> None:
    klass = commands.add_parser("class", help="run a graded class on one shared cluster (instructors)")
    klass.add_argument("--class-dir", metavar="DIR", default="class",
                       help="the class's folder: roster, kubeconfigs, submissions, gradebook (default: ./class)")
    klass.add_argument("--context", metavar="CTX", help="the instructor's kubeconfig context (default: current)")
    actions = klass.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="namespaces, accounts, node ports and kubeconfigs from a roster")
    create.add_argument("--roster", metavar="CSV", required=True, help="learner id, name, email per line")
    create.add_argument("--node-address", metavar="ADDR", help="where learners reach node ports (default: the node's IP)")
    create.add_argument("--token-days", type=int, default=30, metavar="N", help="how long kubeconfigs work (default 30)")
    actions.add_parser("delete", help="remove every learner's namespaces, accounts and kubeconfigs")
    collect = actions.add_parser("collect", help="freeze each learner's lab into submissions/<learner>/<lab>/")
    collect.add_argument("lab", metavar="LAB", help=", ".join(LABS))
    collect.add_argument("--allow-disruption", action="store_true", help="checkpoint-2: delete a web pod, see it replaced")
    grade = actions.add_parser("grade", help="grade the collected snapshots (no cluster needed)")
    grade.add_argument("lab", metavar="LAB", help=", ".join(LABS))
    grade.add_argument("--weights", metavar="TOML", help="points per check (default: <class-dir>/weights.toml if present)")
    grade.add_argument("--deadline", metavar="ISO8601", help="mark work changed after this time as late")
    release = actions.add_parser("release", help="write the learner edition (no answers, no hidden checks)")
    release.add_argument("target", metavar="DIR")
    klass.set_defaults(run=_class)


def _class(args: argparse.Namespace) -> int:
    from datetime import datetime

    from firstapp.classroom import collection, operations, release

    folder = operations.ClassFolder(Path(args.class_dir))
    if args.action == "release":
        withheld = release.release(Path(args.target))
        print(f"learner edition written to {args.target}; withheld: {', '.join(withheld)}")
        return EXIT_OK
    if args.action == "grade":
        deadline = None
        if args.deadline:
            try:
                deadline = datetime.fromisoformat(args.deadline)
            except ValueError as error:
                raise UnusableInput(f"--deadline {args.deadline!r}: expected ISO 8601, e.g. 2026-12-01T17:00+01:00") from error
            deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)
        outcome = collection.grade(folder, args.lab, Path(args.weights) if args.weights else None, deadline)
    else:
        from course.cluster import Cluster

        cluster = Cluster.connect(args.context)
        if args.action == "create":
            outcome = operations.create(cluster, Path(args.roster), folder, args.node_address, args.token_days)
        elif args.action == "delete":
            outcome = operations.delete(cluster, folder)
        else:
            outcome = collection.collect(cluster, folder, args.lab, args.allow_disruption)
    for line in outcome.done:
        print(line)
    for problem in outcome.problems:
        print(f"firstapp class {args.action}: {problem}", file=sys.stderr)
    return EXIT_FAILED if outcome.problems else EXIT_OK


def _grade(args: argparse.Namespace) -> int:
    from grader import reports
    from grader.run import grade_live, grade_static

    if args.all_namespaces:
        from grader import batch

        if not args.selector:
            raise UnusableInput("--all-namespaces needs --selector LABEL (for example course=firstapp)")
        if args.format not in ("json", "csv"):
            raise UnusableInput("a class report is --format json or --format csv")
        results = batch.grade_namespaces(args.lab, args.selector, args.context, args.manifests)
        _write(reports.batch_csv(results) if args.format == "csv" else reports.batch_json(results), args.output)
        return EXIT_OK if all(not isinstance(r, str) and r.passed for r in results.values()) else EXIT_FAILED
    if args.format == "csv":
        raise UnusableInput("--format csv is for a class (--all-namespaces); use text, json or junit")
    if args.static:
        result = grade_static(args.lab, args.manifests or "-", **_static_place(args.node_port, args.host))
    else:
        from course.cluster import Cluster

        if args.node_port is not None or args.host is not None:
            raise UnusableInput("--node-port and --host are for --static; live grading reads both from the "
                                "graded namespace")
        cluster = Cluster.connect(args.context)
        result = grade_live(args.lab, args.namespace or _default_namespace(cluster, args.lab), args.manifests,
                            allow_disruption=args.allow_disruption, cluster=cluster)
    _write(reports.render(result, args.format), args.output)
    return EXIT_OK if result.passed else EXIT_FAILED


def _static_place(node_port: int | None, host: str | None) -> dict[str, Any]:
    """grade_static's place arguments, checked: a node port Kubernetes allows, a host
    name an Ingress rule accepts."""
    from course.model import NODE_PORT_RANGE
    from course.place import is_host_name

    place: dict[str, Any] = {}
    if node_port is not None:
        if node_port not in NODE_PORT_RANGE:
            raise UnusableInput(f"--node-port {node_port}: expected a node port from {NODE_PORT_RANGE.start} to "
                                f"{NODE_PORT_RANGE.stop - 1}")
        place["node_port"] = node_port
    if host is not None:
        if not is_host_name(host):
            raise UnusableInput(f"--host {host!r}: expected a lowercase DNS name such as alice.firstapp.localhost")
        place["host"] = host
    return place


def _default_namespace(cluster: Cluster, lab: str) -> str:
    """A learner of a class grades their own lab namespace; anyone else the context's."""
    from course.place import locate

    place = locate(cluster, lab)
    return place.namespace if place.in_class else cluster.default_namespace


def _write(report: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(report)
        except OSError as error:
            raise UnusableInput(f"{output}: cannot write the report ({error.strerror})") from error
    else:
        sys.stdout.write(report)


def _cluster_command(args: argparse.Namespace) -> int:
    from firstapp import commands

    if args.command == "up":
        return commands.up(args.provider, with_app=args.with_app, open_lab=not args.no_lab)
    if args.command == "down":
        return commands.down(args.provider)
    return commands.status(args.provider)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except UnusableInput as error:
        if args.debug:
            traceback.print_exc()
        print(f"firstapp {args.command}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print(f"firstapp {args.command}: interrupted", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
