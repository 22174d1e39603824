"""What `firstapp up`, `down` and `status` do, provider-independently."""

from __future__ import annotations

import os
import shutil
import sys

from course.model import APP_NAMESPACE, APP_URL
from course.paths import course_home
from firstapp.providers import choose
from firstapp.providers.base import ProviderUnavailable, step


def up(provider_name: str | None, with_app: bool, open_lab: bool) -> int:
    provider = choose(provider_name)
    print(f"firstapp up: provider {provider.name}, context {provider.context}", file=sys.stderr)
    provider.up()
    provider.load_images()
    if with_app:
        from course.cluster import Cluster
        from firstapp import sample_app

        with step(f"app: deploy the reference application into namespace {APP_NAMESPACE}"):
            sample_app.deploy(Cluster.connect(provider.context), APP_NAMESPACE)
        with step(f"app: wait for {APP_URL} to answer"):
            answer = sample_app.wait_answering()
            if not answer.get("ok"):
                raise ProviderUnavailable(f"the app does not answer at {APP_URL}: {answer}")
        print(f"the app answers at {APP_URL}", file=sys.stderr)
    if open_lab:
        jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or shutil.which("jupyter")
        if not jupyter:
            raise ProviderUnavailable("JupyterLab is not installed; run ./run-course, which installs it")
        home = course_home()
        args = [jupyter, "lab", "--notebook-dir", str(home), str(home / "lessons")]
        if os.geteuid() == 0:
            args.append("--allow-root")
        sys.stdout.flush()
        os.execv(jupyter, args)
    return 0


def down(provider_name: str | None) -> int:
    choose(provider_name).down()
    return 0


def status(provider_name: str | None) -> int:
    from firstapp import sample_app

    provider = choose(provider_name)
    print(f"provider {provider.name}, context {provider.context}")
    rows = provider.status()
    for name, state in rows:
        print(f"  {name:<26} {state}")
    answer = sample_app.chain()
    why = answer.get("error") or answer.get("failed_hop")
    verdict = "answers (web -> api -> db)" if answer.get("ok") else f"not answering ({why})"
    print(f"  {'app at ' + APP_URL:<26} {verdict}")
    return 0
