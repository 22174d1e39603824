#!/usr/bin/env bash
# Makes the cluster's certificates and kubeconfigs with openssl, and checks them on every
# run: a CA, the API server's serving and kubelet-client certificates, a client
# certificate per component (its name and group are what RBAC and the Node authorizer
# see), the kubelet's serving certificate and the service-account signing key; and, apart,
# etcd's own CA, etcd's serving (and peer) certificate and the API server's etcd client
# certificate. etcd trusts only its own CA: the cluster CA also signs whatever CSR the
# controller-manager approves, and such a certificate must not open etcd.
# Usage: pki.sh STATE_DIR NODE_NAME NODE_IP
#
# Every run checks what is there and keeps it when it is good (a warm start changes
# nothing): a CA must be a CA, signed by its own key, with that key beside it; a
# certificate must verify against its CA for its purpose (server or client), have the
# wanted subject and exactly the wanted SANs, match its key and stay valid for 30 days
# more. Whatever fails a check is made again, and with a new CA everything it signed.
# Each key and certificate is written to a temporary file in the pki folder, checked,
# and only then renamed into place; a run killed half-way leaves a pair that fails the
# check next time (say, a new key beside the old certificate), which is then made again.
# A failing openssl stops it with the name of the certificate and openssl's own error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 3 ] || die "usage: pki.sh STATE_DIR NODE_NAME NODE_IP"
state=$1 node=$2 node_ip=$3
pki="$state/pki"
umask 077
mkdir -p "$pki" && chmod 700 "$pki"
cd "$pki"
RENEW_BEFORE=$((30 * 24 * 3600))  # seconds: a certificate expiring sooner is made again

# Temporary files of this run (removed whatever happens), and of a killed one.
temps=()
trap 'rm -f "${temps[@]}"' EXIT
rm -f .tmp.*
# tmp VAR NAME: a new temporary file for NAME in the pki folder, its path put in VAR.
tmp() { local path_; path_=$(mktemp "$pki/.tmp.$2.XXXXXX") && temps+=("$path_") && printf -v "$1" %s "$path_"; }

# ssl NAME ARGS...: runs openssl for the certificate or key NAME. Its output (progress
# dots on success) is shown only when it fails, with NAME.
ssl() {
  local name=$1 output; shift
  if ! output=$(openssl "$@" 2>&1 </dev/null); then
    printf '%s\n' "$output" >&2
    die "pki.sh: openssl $1 failed for $name in $pki; openssl's error is above"
  fi
}

# verify_all CA NAME...: notes in `verified` which of NAME.crt verify against CA.crt (one
# openssl for them all: a warm start runs few programs).
declare -A verified=()
verify_all() {
  local ca=$1 name files=() line; shift
  for name; do [ -s "$name.crt" ] && files+=("$name.crt"); done
  [ ${#files[@]} -gt 0 ] || return 0
  while IFS= read -r line; do
    [[ $line == *.crt:\ OK ]] && verified[${line%.crt: OK}]=1
  done < <(openssl verify -CAfile "$ca.crt" "${files[@]}" 2>/dev/null || true)
}

# cert_facts CERT: sets subject, sans (sorted, as -extfile takes them: DNS:x,IP:1.2.3.4),
# usages (extended key usages), is_ca and public_key from one openssl run, which fails
# when CERT is no certificate or expires within RENEW_BEFORE.
cert_facts() {
  local info line section="" list=()
  subject="" sans="" usages="" is_ca=false public_key=""
  info=$(openssl x509 -in "$1" -noout -checkend "$RENEW_BEFORE" -subject -nameopt compat \
           -ext basicConstraints,extendedKeyUsage,subjectAltName -pubkey 2>/dev/null) || return 1
  while IFS= read -r line; do
    case $line in
      subject=*) subject=${line#subject=} ;;
      *"Basic Constraints"*) section=basic ;;
      *"Extended Key Usage"*) section=usage ;;
      *"Subject Alternative Name"*) section=san ;;
      "-----BEGIN PUBLIC KEY-----") section=key; public_key=$line ;;
      "    "*)
        case $section in
          basic) [[ $line == *CA:TRUE* ]] && is_ca=true ;;
          usage) usages=${line#    } ;;
          san) IFS=, read -ra list <<<"${line#    }" ;;
        esac ;;
      *) [ "$section" = key ] && public_key+=$'\n'$line
         [ "$line" = "-----END PUBLIC KEY-----" ] && section="" ;;
    esac
  done <<<"$info"
  list=("${list[@]# }") && list=("${list[@]/#IP Address:/IP:}")
  local IFS=,
  sans="${list[*]}"
}

# same_set A B: the comma-separated lists A and B have the same items, in any order.
same_set() {
  local a=() b=() item; declare -A in_a=()
  IFS=, read -ra a <<<"$1"; IFS=, read -ra b <<<"$2"
  [ ${#a[@]} -eq ${#b[@]} ] || return 1
  for item in "${a[@]}"; do in_a[$item]=1; done
  for item in "${b[@]}"; do [ -n "${in_a[$item]:-}" ] || return 1; done
}

# key_is_of KEY: KEY is the private key of the certificate cert_facts read last.
key_is_of() {
  local private
  private=$(openssl pkey -in "$1" -pubout 2>/dev/null) && [ -n "$private" ] && [ "$private" = "$public_key" ]
}

# ca_good NAME: NAME.crt is a CA certificate signed by NAME.key, valid for 30 days more.
ca_good() {
  local name=$1
  [ -s "$name.key" ] && [ -s "$name.crt" ] && cert_facts "$name.crt" && $is_ca && key_is_of "$name.key" &&
    openssl verify -CAfile "$name.crt" "$name.crt" >/dev/null 2>&1
}

# ca NAME CN: a self-signed CA, made again (to temporary files, checked, then renamed)
# unless it is good.
ca() {
  local name=$1 cn=$2 key crt
  ca_good "$name" && return 0
  if [ -e "$name.crt" ] || [ -e "$name.key" ]; then
    log "pki.sh: $name is incomplete or invalid; making a new one (and all it signed)"
  fi
  tmp key "$name.key" && tmp crt "$name.crt"
  ssl "$name" req -x509 -newkey rsa:2048 -nodes -keyout "$key" -out "$crt" -days 3650 -subj "/CN=$cn" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl verify -CAfile "$crt" "$crt" >/dev/null 2>&1 || die "pki.sh: the new $name does not verify; see $pki"
  mv -f "$key" "$name.key" && mv -f "$crt" "$name.crt"
}

# cert_good NAME SUBJECT SANS: see the top of this file (verify_all ran before).
cert_good() {
  local name=$1 want_subject=$2 want_sans=$3
  [ -s "$name.key" ] && [ -n "${verified[$name]:-}" ] && cert_facts "$name.crt" && ! $is_ca || return 1
  [ "$subject" = "$want_subject" ] && same_set "$sans" "$want_sans" || return 1
  [[ $usages == *"TLS Web Client Authentication"* ]] || return 1
  [ -z "$want_sans" ] || [[ $usages == *"TLS Web Server Authentication"* ]] || return 1
  key_is_of "$name.key"
}

# cert NAME CA SUBJECT [SANS]: a key and a certificate signed by CA, for a client, or with
# SANS for a server (and client: etcd's peers are both); made again unless good.
cert() {
  local name=$1 ca=$2 want_subject=$3 want_sans=${4:-} usage=clientAuth purposes=sslclient key csr ext crt check
  [ -z "$want_sans" ] || usage=serverAuth,clientAuth purposes="sslserver sslclient"
  cert_good "$name" "$want_subject" "$want_sans" && return 0
  if [ -e "$name.crt" ] || [ -e "$name.key" ]; then
    log "pki.sh: $name.crt is missing, invalid or out of date; making it again"
  fi
  tmp key "$name.key" && tmp csr "$name.csr" && tmp ext "$name.ext" && tmp crt "$name.crt"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$usage" >"$ext"
  [ -z "$want_sans" ] || printf 'subjectAltName=%s\n' "$want_sans" >>"$ext"
  ssl "$name" req -newkey rsa:2048 -nodes -keyout "$key" -out "$csr" -subj "$want_subject"
  ssl "$name" x509 -req -in "$csr" -CA "$ca.crt" -CAkey "$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -out "$crt" -days 3650 -extfile "$ext"
  for check in $purposes; do
    openssl verify -CAfile "$ca.crt" -purpose "$check" "$crt" >/dev/null 2>&1 ||
      die "pki.sh: the new $name.crt does not verify against $ca.crt ($check); see $pki"
  done
  mv -f "$key" "$name.key" && mv -f "$crt" "$name.crt"
}

ca ca firstapp-local-ca
ca etcd-ca firstapp-local-etcd-ca
verify_all ca apiserver apiserver-kubelet-client admin controller-manager scheduler kube-proxy kube-router ingress kubelet kubelet-serving
verify_all etcd-ca etcd-server apiserver-etcd-client

cert apiserver ca "/CN=kube-apiserver" \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$node,IP:127.0.0.1,IP:10.96.0.1,IP:$node_ip"
cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert admin ca "/O=system:masters/CN=firstapp-admin"
cert controller-manager ca "/CN=system:kube-controller-manager"
cert scheduler ca "/CN=system:kube-scheduler"
cert kube-proxy ca "/CN=system:kube-proxy"
cert kube-router ca "/CN=firstapp:kube-router"  # its rights: kube-router.yaml
cert ingress ca "/CN=firstapp:ingress"  # its rights: ingress.yaml
cert kubelet ca "/O=system:nodes/CN=system:node:$node"
cert kubelet-serving ca "/CN=$node" "DNS:$node,DNS:localhost,IP:127.0.0.1,IP:$node_ip"

cert etcd-server etcd-ca "/CN=etcd" "DNS:localhost,IP:127.0.0.1"
cert apiserver-etcd-client etcd-ca "/CN=kube-apiserver-etcd-client"

# The service-account signing key pair: sa.pub must be sa.key's public key.
sa_public=$(openssl pkey -in sa.key -pubout 2>/dev/null || true)
if [ -z "$sa_public" ] || [ ! -s sa.pub ] || [ "$sa_public" != "$(<sa.pub)" ]; then
  if [ -e sa.key ] || [ -e sa.pub ]; then log "pki.sh: sa.key and sa.pub do not match; making a new pair"; fi
  key="" pub=""
  tmp key sa.key && tmp pub sa.pub
  ssl sa genrsa -out "$key" 2048
  ssl sa pkey -in "$key" -pubout -out "$pub"
  mv -f "$key" sa.key && mv -f "$pub" sa.pub
fi
rm -f ca.srl  # serials are random (-set_serial); an earlier version kept a serial file

# kubeconfig NAME USER: a kubeconfig for the component, pointing at the local API server
# (written, through a temporary file, only when it changes).
kubeconfig() {
  local name=$1 user=$2 file text
  text="apiVersion: v1
kind: Config
clusters:
- name: firstapp-local
  cluster:
    certificate-authority: $pki/ca.crt
    server: https://127.0.0.1:6443
users:
- name: $user
  user:
    client-certificate: $pki/$name.crt
    client-key: $pki/$name.key
contexts:
- name: firstapp-local
  context: {cluster: firstapp-local, user: $user}
current-context: firstapp-local"
  [ -f "$state/$name.kubeconfig" ] && [ "$(<"$state/$name.kubeconfig")" = "$text" ] && return 0
  tmp file "$name.kubeconfig"
  printf '%s\n' "$text" >"$file"
  chmod 644 "$file"
  mv -f "$file" "$state/$name.kubeconfig"
}
for component in admin controller-manager scheduler kube-proxy kube-router ingress kubelet; do
  kubeconfig "$component" "$component"
done
