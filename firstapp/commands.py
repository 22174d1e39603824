"""What `firstapp up`, `down` and `status` do, provider-independently."""

from __future__ import annotations

import os
import shutil
import sys

from firstapp.providers import choose
from firstapp.providers.base import REPO, ProviderUnavailable, step


def up(provider_name: str | None, with_app: bool, open_lab: bool) -> int:
    provider = choose(provider_name)
    print(f"firstapp up: provider {provider.name}, context {provider.context}", file=sys.stderr)
    provider.up()
    provider.load_images()
    if with_app:
        from firstapp import sample_app
        from firstapp.cluster import Cluster

        with step(f"app: deploy the reference application into namespace {sample_app.APP_NAMESPACE}"):
            sample_app.deploy(Cluster.connect(provider.context), sample_app.APP_NAMESPACE)
        with step(f"app: wait for {sample_app.APP_URL} to answer"):
            answer = sample_app.wait_answering()
            if not answer.get("ok"):
                raise ProviderUnavailable(f"the app does not answer at {sample_app.APP_URL}: {answer}")
        print(f"the app answers at {sample_app.APP_URL}", file=sys.stderr)
    if open_lab:
        jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or shutil.which("jupyter")
        if not jupyter:
            raise ProviderUnavailable("JupyterLab is not installed; run ./run-course, which installs it")
        args = [jupyter, "lab", "--notebook-dir", str(REPO), str(REPO / "lessons")]
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
    verdict = "answers (web -> api -> db)" if answer.get("ok") else f"not answering ({answer.get('error') or answer.get('failed_hop')})"
    print(f"  {'app at ' + sample_app.APP_URL:<26} {verdict}")
    return 0
