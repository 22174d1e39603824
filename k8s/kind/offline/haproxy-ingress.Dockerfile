# Stand-in for quay.io/jcmoraisjr/haproxy-ingress:v0.14.7 (k8s/kind/ingress.yaml), which
# this registry-less machine cannot pull: the same release's controller, built from the Go
# module proxy by k8s/local/build.sh, with its module's rootfs (start.sh, the Lua
# scripts) on Debian 12's haproxy 2.6 and lua-json, laid out and started like upstream's
# image (which is haproxy 2.4 on Alpine).
FROM firstapp.local/debian-minbase:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy lua-json dumb-init socat openssl \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/haproxy /var/lib/haproxy /var/run/haproxy
COPY rootfs/ /
COPY haproxy-ingress /haproxy-ingress-controller
# its health handler's path has a space, which Go 1.22's ServeMux takes for a method
ENV GODEBUG=httpmuxgo121=1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/start.sh"]
