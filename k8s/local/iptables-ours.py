"""Deletes the local cluster's own iptables rules and chains, one rule at a time, and
leaves everything else on the host alone (Docker's, kind's, another CNI network's).

  iptables-ours.py [--chain-prefix PREFIX]... BRIDGE CNI_NETWORK CIDR,... [SANDBOX_ID...]
  (cleanup.sh runs it after `kube-proxy --cleanup`, with the ids of our pods' sandboxes,
  and with kube-router's chain prefixes when our kube-router ran since the last cleanup)

A rule is ours when it carries our CNI network's comment (`name: "firstapp" id: ...`,
which the bridge and portmap plugins put on theirs), names our bridge, matches an address
inside one of our CIDRs (pods, Services), or jumps to a chain of ours. A chain is ours
when it is one of the kubelet's chains, when the CNI plugins named it after one of our
sandboxes ("CNI-" + sha512(network + sandbox id), even once it is empty), when its name
starts with one of the given prefixes (kube-router's: it has no cleanup that works on a
kernel without IPVS, and names every chain it makes with one of them), when every rule
in it is ours and something of ours is in it or jumps to it, or when it is one of portmap's
shared chains and no other network's host port is left. Rules are deleted with
`iptables -D`, never by rewriting a table, so other tools' rules are never touched, even
while they change them. It runs for iptables and ip6tables; exits 1 naming what is left.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

BUILTIN_CHAINS = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}
# The kubelet's chains (pkg/kubelet/kubelet_network_linux.go): empty canaries that tell it a
# table was flushed, a hint of the iptables backend it uses, and KUBE-FIREWALL (dropping
# martian packets to 127.0.0.0/8, jumped to from INPUT and OUTPUT), which kube-proxy also
# makes but does not remove. kube-proxy's chains are gone by then (its --cleanup runs
# first), except its canary when deleting it failed, which kube-proxy does not report.
KUBE_CHAINS = {"KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT", "KUBE-FIREWALL", "KUBE-PROXY-CANARY"}
# The portmap plugin's chains that every CNI network with host ports shares; they go with
# CNI-HOSTPORT-DNAT, once no other network has host ports here (portmap remakes them).
PORTMAP_SHARED_CHAINS = {"CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"}
INTERFACE_OPTIONS = {"-i", "--in-interface", "-o", "--out-interface", "--physdev-in", "--physdev-out"}
ADDRESS_OPTIONS = {"-s", "--source", "-d", "--destination", "--to-destination", "--to-source", "--to"}
JUMP_OPTIONS = {"-j", "--jump", "-g", "--goto"}


def cni_chain_names(network: str, sandbox: str) -> set[str]:
    """The chains the bridge (CNI-) and portmap (CNI-DN-) plugins make for one sandbox:
    the prefix and the hex sha512 of network name + container id, cut to 28 characters
    (FormatChainName in containernetworking/plugins pkg/utils)."""
    digest = hashlib.sha512((network + sandbox).encode()).hexdigest()
    return {(prefix + digest)[:28] for prefix in ("CNI-", "CNI-DN-")}


@dataclass(frozen=True)
class Owner:
    """What identifies the course's network: its bridge, CNI network name, CIDRs, and the
    chains named after its sandboxes."""
    bridge: str
    network: str
    cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    chains: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()  # every chain whose name starts with one of these is ours

    @classmethod
    def of(cls, bridge: str, network: str, cidrs: Iterable[str], sandboxes: Iterable[str] = (),
           prefixes: Iterable[str] = ()) -> Owner:
        chains = frozenset(name for sandbox in sandboxes for name in cni_chain_names(network, sandbox))
        return cls(bridge, network, tuple(ipaddress.ip_network(c) for c in cidrs), frozenset(KUBE_CHAINS) | chains,
                   tuple(prefixes))

    def names(self, chain: str) -> bool:
        """The chain is ours by its name."""
        return chain in self.chains or (bool(self.prefixes) and chain.startswith(self.prefixes))


@dataclass(frozen=True)
class Rule:
    table: str
    chain: str
    args: tuple[str, ...]  # the rule's words after `-A CHAIN`, unquoted

    def values(self, options: set[str]) -> list[str]:
        return [self.args[i + 1] for i, word in enumerate(self.args[:-1]) if word in options]


def parse(save: str) -> dict[str, dict[str, list[Rule]]]:
    """iptables-save output -> {table: {chain: [rules]}}, chains (even empty) in order."""
    tables: dict[str, dict[str, list[Rule]]] = {}
    table = ""
    for line in save.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            tables[table] = {}
        elif line.startswith(":"):
            tables[table][line[1:].split()[0]] = []
        elif line.startswith("-A "):
            words = shlex.split(line)
            tables[table].setdefault(words[1], []).append(Rule(table, words[1], tuple(words[2:])))
    return tables


def _address_is_ours(value: str, owner: Owner) -> bool:
    """VALUE: an address or network, maybe with a port ("10.244.0.2:53", "[fd00::2]:53"),
    a range ("a-b", its start decides) or a comma-separated list of these. Only addresses
    inside our CIDRs count: a rule for all of 10.0.0.0/8 is not ours."""
    for part in value.split(","):
        if part.startswith("["):
            part = part[1:].split("]")[0]
        elif part.count(":") == 1:
            part = part.split(":")[0]
        try:
            network = ipaddress.ip_network(part.split("-")[0], strict=False)
        except ValueError:
            continue
        if any(network[0] in cidr and network[-1] in cidr for cidr in owner.cidrs):
            return True
    return False


def rule_mentions_us(rule: Rule, owner: Owner) -> bool:
    """A rule that names our CNI network, our bridge, or an address in our CIDRs."""
    tag = re.compile(rf'\bname: "{re.escape(owner.network)}" id: "')
    if any(tag.search(comment) for comment in rule.values({"--comment"})):
        return True
    if owner.bridge in rule.values(INTERFACE_OPTIONS):
        return True
    return any(_address_is_ours(value, owner) for value in rule.values(ADDRESS_OPTIONS))


def ours(chains: dict[str, list[Rule]], owner: Owner) -> tuple[set[str], set[Rule]]:
    """The chains and rules of one table that are ours (see the module's docstring)."""
    rules = {rule for chain_rules in chains.values() for rule in chain_rules if rule_mentions_us(rule, owner)}
    our_chains = {name for name in chains if owner.names(name)}
    while True:
        rules |= {rule for chain_rules in chains.values() for rule in chain_rules
                  if rule.chain in our_chains or set(rule.values(JUMP_OPTIONS)) & our_chains}
        jumped_to_by_us = {target for rule in rules for target in rule.values(JUMP_OPTIONS)}
        more = {name for name, chain_rules in chains.items()
                if name not in BUILTIN_CHAINS and name not in our_chains
                and (chain_rules or name in jumped_to_by_us)
                and all(rule in rules for rule in chain_rules)}
        if "CNI-HOSTPORT-DNAT" in our_chains | more or "CNI-HOSTPORT-DNAT" not in chains:
            more |= (PORTMAP_SHARED_CHAINS & chains.keys()) - our_chains
        if not more:
            return our_chains, rules
        our_chains |= more


def plan(save: str, owner: Owner) -> list[list[str]]:
    """The commands (iptables arguments) that remove what is ours, in an order that works:
    flush our chains, delete our rules from the other chains, then delete our chains."""
    flush, delete, remove = [], [], []
    for table, chains in parse(save).items():
        our_chains, rules = ours(chains, owner)
        for name in chains:
            if name in our_chains:
                flush.append(["-t", table, "-F", name])
                remove.append(["-t", table, "-X", name])
            else:
                delete += [["-t", table, "-D", name, *rule.args] for rule in chains[name] if rule in rules]
    return flush + delete + remove


def left(save: str, owner: Owner) -> list[str]:
    """What of ours a table dump still has, for people: chains, and rules in other chains."""
    found = []
    for table, chains in parse(save).items():
        our_chains, rules = ours(chains, owner)
        found += [f"chain {name} (table {table})" for name in chains if name in our_chains]
        found += [f"rule -A {rule.chain} {shlex.join(rule.args)} (table {table})"
                  for rule in rules if rule.chain not in our_chains]
    return found


def clean(command: str, owner: Owner) -> list[str]:
    """Removes what is ours with COMMAND (iptables or ip6tables); returns what is left."""
    def save() -> str:
        return subprocess.run([f"{command}-save"], check=True, capture_output=True, text=True).stdout

    errors = []
    for args in plan(save(), owner):
        done = subprocess.run([command, "-w", *args], capture_output=True, text=True)
        if done.returncode != 0:
            errors.append(f"  {command} {shlex.join(args)}: {done.stderr.strip()}")
    leftovers = [f"{command}: left: {thing}" for thing in left(save(), owner)]
    return leftovers + errors if leftovers else []


def main(argv: list[str]) -> int:
    prefixes = []
    while len(argv) >= 2 and argv[0] == "--chain-prefix":
        prefixes.append(argv[1])
        argv = argv[2:]
    if len(argv) < 3 or not all(prefixes):
        print(__doc__, file=sys.stderr)
        return 2
    owner = Owner.of(argv[0], argv[1], argv[2].split(","), argv[3:], prefixes)
    problems = []
    for command in ("iptables", "ip6tables"):
        if shutil.which(command) and shutil.which(f"{command}-save"):
            try:
                problems += clean(command, owner)
            except subprocess.CalledProcessError as error:
                problems.append(f"{command}-save failed: {error.stderr.strip()}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
