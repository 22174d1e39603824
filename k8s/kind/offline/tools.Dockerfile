# kube-proxy's image (it runs iptables), also the one the default CNI's DaemonSets run:
# the bridge's installer and kube-router, the NetworkPolicy enforcer (iptables, ipset).
FROM firstapp.local/debian-minbase:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables ipset iproute2 conntrack \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY kube-proxy kube-router /usr/local/bin/
