"""k8s/local/pki.sh on a temporary state folder (no cluster, no root): it makes every key
and certificate once, keeps what is good (a warm start changes no file), and makes again
what does not check out: certificates for a node IP that changed, a CA key without its
certificate (a run killed half-way), an empty certificate, one signed by another CA, a
key that is not the certificate's, a service-account key pair that does not match. A run
killed at any moment leaves nothing the next run does not repair. etcd trusts a CA of its
own, which signs nothing else."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

PKI_SH = Path(__file__).resolve().parents[2] / "k8s" / "local" / "pki.sh"
NODE = "firstapp-local"
IP = "192.0.2.10"
# name: (CA, subject, SANs or None for a client certificate)
CERTS = {
    "apiserver": ("ca", "/CN=kube-apiserver", {
        "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local", "DNS:localhost", f"DNS:{NODE}", "IP:127.0.0.1", "IP:10.96.0.1",
        f"IP:{IP}"}),
    "apiserver-kubelet-client": ("ca", "/O=system:masters/CN=kube-apiserver-kubelet-client", None),
    "admin": ("ca", "/O=system:masters/CN=firstapp-admin", None),
    "controller-manager": ("ca", "/CN=system:kube-controller-manager", None),
    "scheduler": ("ca", "/CN=system:kube-scheduler", None),
    "kube-proxy": ("ca", "/CN=system:kube-proxy", None),
    "kubelet": ("ca", f"/O=system:nodes/CN=system:node:{NODE}", None),
    "kubelet-serving": ("ca", f"/CN={NODE}", {f"DNS:{NODE}", "DNS:localhost", "IP:127.0.0.1", f"IP:{IP}"}),
    "etcd-server": ("etcd-ca", "/CN=etcd", {"DNS:localhost", "IP:127.0.0.1"}),
    "apiserver-etcd-client": ("etcd-ca", "/CN=kube-apiserver-etcd-client", None),
}
KUBECONFIGS = ("admin", "controller-manager", "scheduler", "kube-proxy", "kubelet")


def run_pki(state: Path, ip: str = IP, node: str = NODE) -> subprocess.CompletedProcess:
    done = subprocess.run(["bash", str(PKI_SH), str(state), node, ip], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"pki.sh failed ({done.returncode}):\n{done.stderr}"
    return done


def openssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)


def facts(cert: Path) -> tuple[str, set[str], str]:
    """A certificate's subject, SANs and public key, from one openssl run."""
    text = openssl("x509", "-in", str(cert), "-noout", "-subject", "-nameopt", "compat", "-ext", "subjectAltName",
                   "-pubkey").stdout
    subject, _, rest = text.partition("\n")
    san_text, _, key = rest.partition("-----BEGIN PUBLIC KEY-----")
    found = {item.strip().replace("IP Address:", "IP:") for line in san_text.splitlines()[1:]
             for item in line.split(",") if item.strip()}
    return subject.removeprefix("subject="), found, "-----BEGIN PUBLIC KEY-----" + key


def sans(cert: Path) -> set[str]:
    return facts(cert)[1]


def private_public_key(key: Path) -> str:
    return openssl("pkey", "-in", str(key), "-pubout").stdout


def verified(ca: Path, certs: list[Path], purpose: str | None = None) -> set[str]:
    """Which of `certs` verify against `ca` (for `purpose`), from one openssl run."""
    done = openssl("verify", "-CAfile", str(ca), *(["-purpose", purpose] if purpose else []), *map(str, certs))
    return {line.removesuffix(": OK") for line in done.stdout.splitlines() if line.endswith(": OK")}


def assert_all_good(state: Path, ip: str = IP) -> None:
    """Every certificate verifies against its CA (and not the other) for its purpose, with
    its subject, exactly its SANs and its own key; the folder and keys are private; no
    temporary file is left."""
    pki = state / "pki"
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    for ca in ("ca", "etcd-ca"):
        other = "etcd-ca" if ca == "ca" else "ca"
        signed = [pki / f"{name}.crt" for name, (issuer, _, _) in CERTS.items() if issuer == ca]
        servers = [pki / f"{name}.crt" for name, (issuer, _, wanted) in CERTS.items() if issuer == ca and wanted]
        assert verified(pki / f"{ca}.crt", signed, "sslclient") == set(map(str, signed))
        assert verified(pki / f"{ca}.crt", servers, "sslserver") == set(map(str, servers))
        assert verified(pki / f"{other}.crt", signed) == set(), f"certificates of {ca} verify against {other}"
        assert verified(pki / f"{ca}.crt", [pki / f"{ca}.crt"]) == {str(pki / f"{ca}.crt")}
        assert private_public_key(pki / f"{ca}.key") == facts(pki / f"{ca}.crt")[2]
    for name, (_, subject, wanted) in CERTS.items():
        got_subject, got_sans, key = facts(pki / f"{name}.crt")
        assert got_subject == subject
        assert got_sans == ({s.replace(IP, ip) for s in wanted} if wanted else set()), name
        assert private_public_key(pki / f"{name}.key") == key, f"{name}.key is not {name}.crt's"
    assert private_public_key(pki / "sa.key") == (pki / "sa.pub").read_text()
    for key_file in pki.glob("*.key"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, key_file
    assert [p.name for p in pki.iterdir() if p.name.startswith(".")] == []
    for name in KUBECONFIGS:
        text = (state / f"{name}.kubeconfig").read_text()
        assert f"client-certificate: {pki}/{name}.crt" in text and f"certificate-authority: {pki}/ca.crt" in text


def fingerprints(state: Path, kubeconfigs: bool = False) -> dict[str, tuple[str, int]]:
    """Each file's hash and modification time (ns), of the pki folder (and the kubeconfigs)."""
    files = [*(state / "pki").iterdir(), *(state.glob("*.kubeconfig") if kubeconfigs else ())]
    return {str(f.relative_to(state)): (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns)
            for f in files}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """One complete run, copied by each test (making 15 RSA keys takes seconds)."""
    state = tmp_path_factory.mktemp("pki-made") / "state"
    run_pki(state)
    return state


@pytest.fixture
def state(made: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "state"
    shutil.copytree(made, copy)  # its kubeconfigs name `made`: the next run rewrites them
    return copy


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def test_a_first_run_makes_every_certificate_and_they_check_out(made):
    assert_all_good(made)


def test_a_warm_run_changes_nothing(state):
    run_pki(state)
    before = fingerprints(state, kubeconfigs=True)
    time.sleep(0.01)
    run_pki(state)
    assert changed(before, fingerprints(state, kubeconfigs=True)) == set()
    assert_all_good(state)


def test_a_new_node_ip_remakes_the_serving_certificates_without_the_old_address(state):
    before = fingerprints(state)
    run_pki(state, ip="198.51.100.7")
    assert_all_good(state, ip="198.51.100.7")
    assert f"IP:{IP}" not in sans(state / "pki" / "apiserver.crt")
    assert changed(before, fingerprints(state)) == {f"pki/{name}.{ext}" for name in ("apiserver", "kubelet-serving")
                                                   for ext in ("crt", "key")}


def test_a_ca_key_without_its_certificate_makes_a_new_ca_and_all_it_signed(state):
    pki = state / "pki"
    (pki / "ca.crt").unlink()  # a run killed between writing the key and the certificate
    before = fingerprints(state)
    run_pki(state)
    assert_all_good(state)
    remade = changed(before, fingerprints(state))
    assert {"pki/ca.crt", "pki/ca.key"} <= remade
    assert all(f"pki/{name}.crt" in remade for name, (ca, _, _) in CERTS.items() if ca == "ca")
    assert not any(f"pki/{name}.crt" in remade for name, (ca, _, _) in CERTS.items() if ca == "etcd-ca")


def test_damaged_certificates_are_made_again_and_only_they(state):
    pki = state / "pki"
    (pki / "admin.crt").write_text("")  # empty
    shutil.copy(pki / "apiserver-etcd-client.crt", pki / "kube-proxy.crt")  # the right name, another CA's
    shutil.copy(pki / "apiserver-etcd-client.key", pki / "kube-proxy.key")
    shutil.copy(pki / "admin.key", pki / "scheduler.key")  # a new key beside the old certificate
    (pki / "controller-manager.crt").write_text("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    (pki / "kubelet.key").unlink()
    shutil.copy(pki / "kubelet-serving.crt", pki / "apiserver.crt")  # signed by the CA, other SANs
    shutil.copy(pki / "kubelet-serving.key", pki / "apiserver.key")
    before = fingerprints(state)
    run_pki(state)
    assert_all_good(state)
    assert changed(before, fingerprints(state)) == {
        f"pki/{name}.{ext}" for name in ("admin", "kube-proxy", "scheduler", "controller-manager", "kubelet", "apiserver")
        for ext in ("crt", "key")}


def test_an_empty_etcd_ca_certificate_makes_a_new_etcd_ca_and_all_it_signed(state):
    pki = state / "pki"
    (pki / "etcd-ca.crt").write_text("")
    before = fingerprints(state)
    run_pki(state)
    assert_all_good(state)
    assert changed(before, fingerprints(state)) == {
        f"pki/{name}.{ext}" for name in ("etcd-ca", "etcd-server", "apiserver-etcd-client") for ext in ("crt", "key")}


def test_a_service_account_key_pair_that_does_not_match_is_made_again(state):
    pki = state / "pki"
    shutil.copy(pki / "admin.key", pki / "sa.key")
    run_pki(state)
    assert_all_good(state)


def test_a_run_killed_at_any_moment_is_repaired_by_the_next(tmp_path):
    state = tmp_path / "state"
    for delay in (0.5, 2.0):
        process = subprocess.Popen(["bash", str(PKI_SH), str(state), NODE, IP], start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    run_pki(state)
    assert_all_good(state)


def test_a_failing_openssl_names_the_certificate_and_leaves_nothing_half_made(state, tmp_path):
    pki = state / "pki"
    (pki / "admin.crt").unlink()
    before = fingerprints(state)
    fake = tmp_path / "bin"
    fake.mkdir()
    # openssl that cannot sign: the CA key made unusable, as a full disk or a bad key would
    (fake / "openssl").write_text(f'''#!/bin/sh
[ "$1" = x509 ] && [ "$2" = -req ] && {{ echo "unable to load CA private key" >&2; exit 1; }}
exec {shutil.which("openssl")} "$@"
''')
    (fake / "openssl").chmod(0o755)
    done = subprocess.run(["bash", str(PKI_SH), str(state), NODE, IP], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert done.returncode != 0
    assert "unable to load CA private key" in done.stderr
    assert f"pki.sh: openssl x509 failed for admin in {pki}" in done.stderr
    assert changed(before, fingerprints(state)) == set()  # the old admin.key stays; no temporary file
    run_pki(state)
    assert_all_good(state)
