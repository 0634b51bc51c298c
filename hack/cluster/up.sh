#!/usr/bin/env bash
# Start a real local Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver (RBAC,
# PodSecurity admission, service-account keys, static tokens, audit log), kube-controller-manager,
# kube-scheduler and kwok (fake, untainted nodes whose pods become Running/Ready; nothing runs).
#
#   hack/cluster/up.sh [--name NAME] [--port PORT] [--nodes N] [--audit-policy FILE]
#
# Defaults: --name local --port 6443 --nodes 3. Three nodes, because the upstream flyte-core
# Deployments carry a *required* pod anti-affinity on kubernetes.io/hostname with 2 replicas, and a
# rolling update surges a third pod. Other listeners (etcd, kcm, scheduler, kwok) get ports derived
# from PORT (20000 + (PORT mod 1000) * 10 + 0..4), so a second cluster on another PORT does not
# clash, as long as the two PORTs differ modulo 1000 (6443 and 6444: fine; 6443 and 7443: not).
#
# --audit-policy FILE: start kube-apiserver with that audit policy instead of the built-in one
# (everything at Metadata); a running cluster started with another policy is an error, not a restart.
# Idempotent: when the named cluster already answers, it only prints its kubeconfig path.
# stdout: the admin kubeconfig path (only). stderr: progress and `export KUBECONFIG=...`.
# State (PKI, kubeconfigs, tokens, logs, PIDs, etcd data, audit.log) lives in
# $FLYTESEC_CACHE/run/NAME; hack/cluster/down.sh stops it and removes it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/cluster/versions.sh
. "$HERE/versions.sh"
NAME=local
PORT=
NODES=3
AUDIT_POLICY=
while [ $# -gt 0 ]; do
  case "$1" in
    --name) NAME=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --audit-policy) AUDIT_POLICY=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--name NAME] [--port PORT] [--nodes N] [--audit-policy FILE]" >&2; exit 2 ;;
  esac
done
case "$NAME" in ''|*[!A-Za-z0-9_.-]*) echo "bad --name: $NAME" >&2; exit 2 ;; esac
D="$FLYTESEC_CACHE/run/$NAME"
P="$D/pki"
log() { printf '[cluster %s %s] %s\n' "$NAME" "$(date +%H:%M:%S)" "$*" >&2; }

# One up.sh per cluster name at a time (parallel test runs, `make` jobs). Children get fd 9 closed.
mkdir -p "$FLYTESEC_CACHE/run"
exec 9>"$FLYTESEC_CACHE/run/.$NAME.lock"
flock -w 900 9 || { echo "timed out waiting for another up.sh --name $NAME" >&2; exit 1; }

# The port a running cluster was started with wins over the default; an explicit different
# --port for a running cluster is an error rather than a silent restart.
RECORDED=
if [ -f "$D/port" ]; then RECORDED=$(cat "$D/port"); fi
PORT=${PORT:-${RECORDED:-6443}}
case "$PORT" in ''|*[!0-9]*) echo "bad --port: $PORT" >&2; exit 2 ;; esac
if [ "$PORT" -lt 1024 ] || [ "$PORT" -gt 65535 ]; then echo "--port must be 1024-65535" >&2; exit 2; fi
# Derived ports stay below Linux's ephemeral range (32768+): 20000 + (PORT mod 1000) * 10 + i.
BASE=$((20000 + (PORT % 1000) * 10))
ETCD_CLIENT=$BASE ETCD_PEER=$((BASE + 1)) KCM_PORT=$((BASE + 2)) SCHED_PORT=$((BASE + 3)) KWOK_PORT=$((BASE + 4))
SERVER="https://127.0.0.1:$PORT"
COMPONENTS="etcd kube-apiserver kcm scheduler kwok"

alive() { [ -f "$D/$1.pid" ] && kill -0 "$(cat "$D/$1.pid")" 2>/dev/null; }
all_alive() { local c; for c in $COMPONENTS; do alive "$c" || return 1; done; }
ready() {
  curl -fsS --max-time 3 --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" \
    "$SERVER/readyz" >/dev/null 2>&1
}
say_ready() {
  log "ready: $SERVER (etcd 127.0.0.1:$ETCD_CLIENT), logs and audit.log in $D"
  # shellcheck disable=SC2016 # a literal $PATH for the user's shell
  printf 'export KUBECONFIG=%s\nexport K8S_AUTH_KUBECONFIG=%s\nexport PATH=%s:$PATH\n' \
    "$D/admin.kubeconfig" "$D/admin.kubeconfig" "$BIN" >&2
  echo "$D/admin.kubeconfig"
}

if [ -n "$RECORDED" ] && [ "$RECORDED" != "$PORT" ] && all_alive; then
  echo "cluster $NAME already runs on port $RECORDED; stop it first (down.sh --name $NAME)" >&2; exit 2
fi
if [ -n "$AUDIT_POLICY" ]; then
  [ -f "$AUDIT_POLICY" ] || { echo "--audit-policy: no such file: $AUDIT_POLICY" >&2; exit 2; }
  WANT_POLICY=$(sha256sum < "$AUDIT_POLICY" | cut -d' ' -f1)
else
  WANT_POLICY=builtin
fi
if all_alive && ready; then
  if [ "$(cat "$D/audit-policy.id" 2>/dev/null || echo builtin)" != "$WANT_POLICY" ]; then
    echo "cluster $NAME runs with another audit policy; stop it first (down.sh --name $NAME)" >&2; exit 2
  fi
  log "already running"
  say_ready
  exit 0
fi
# Something is half up (a crash, a reboot): stop what we started before and start clean.
if ls "$D"/*.pid >/dev/null 2>&1; then
  log "stale processes from an earlier start: stopping them"
  bash "$HERE/down.sh" --name "$NAME" --keep-state
fi

# A port someone else listens on would make kube-apiserver/etcd die with a confusing message.
for p in "$PORT" "$ETCD_CLIENT" "$ETCD_PEER" "$KCM_PORT" "$SCHED_PORT" "$KWOK_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port 127.0.0.1:$p is already in use (cluster $NAME needs $PORT and $BASE-$((BASE + 4)))" >&2; exit 1
  fi
done

bash "$HERE/build.sh" all >&2
mkdir -p "$D" "$P"
echo "$PORT" > "$D/port"
rm -rf "$D/etcd"   # a fresh cluster each start; the PKI and tokens stay, so kubeconfigs stay valid

# PKI: one CA; a serving cert; one client cert per identity, so the audit log tells a test's
# own requests (user flytesec-admin) from the controllers' (system:kube-controller-manager and
# its per-controller ServiceAccounts, system:kube-scheduler, system:kwok-controller).
CLIENTS="admin:/O=system:masters/CN=flytesec-admin kcm:/CN=system:kube-controller-manager scheduler:/CN=system:kube-scheduler kwok:/O=system:masters/CN=system:kwok-controller"
(
  umask 077
  cd "$P"
  cert() { # name subject extensions
    [ -f "$1.crt" ] && return 0
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf '%b' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
    chmod 644 "$1.crt"
  }
  if [ ! -f ca.crt ]; then
    log "generating PKI in $P"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=flytesec-$NAME-ca" 2>/dev/null
    chmod 644 ca.crt
  fi
  cert apiserver /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
  for c in $CLIENTS; do
    cert "${c%%:*}" "${c#*:}" 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'
  done
  if [ ! -f sa.key ]; then
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 644 sa.pub
  fi
  rm -f ./*.srl
)
if [ ! -f "$D/tokens.csv" ]; then
  # Static bearer tokens: an admin (system:masters) and `dev`, a user with no rights except
  # what tests bind to it (RBAC still applies to it).
  (umask 077; printf '%s,flytesec-admin-token,uid-admin,"system:masters"\n%s,dev,uid-dev,"flytesec:dev"\n' \
    "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" > "$D/tokens.csv")
fi

kubeconfig() { # file user user-yaml
  (umask 077; cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $NAME
  cluster:
    server: $SERVER
    certificate-authority: $P/ca.crt
users:
- name: $2
  user:
$3
contexts:
- name: $NAME
  context:
    cluster: $NAME
    user: $2
current-context: $NAME
EOF
  )
}
for c in $CLIENTS; do
  c=${c%%:*}
  kubeconfig "$D/$c.kubeconfig" "$c" "    client-certificate: $P/$c.crt
    client-key: $P/$c.key"
done
kubeconfig "$D/dev.kubeconfig" dev "    token: $(awk -F, '$2=="dev"{print $1}' "$D/tokens.csv")"
kubeconfig "$D/admin-token.kubeconfig" admin-token "    token: $(awk -F, '$2=="flytesec-admin-token"{print $1}' "$D/tokens.csv")"

# Audit every request at Metadata level, JSON lines (tests count the reads and writes a run made),
# unless --audit-policy names another policy.
if [ -n "$AUDIT_POLICY" ]; then
  cp "$AUDIT_POLICY" "$D/audit-policy.yaml"
else
  cat > "$D/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
EOF
fi
echo "$WANT_POLICY" > "$D/audit-policy.id"

start() { # name command...
  local name=$1; shift
  "$@" >"$D/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$D/$name.pid"
}
fail() { log "$1 failed; last lines of $D/$2.log:"; tail -25 "$D/$2.log" >&2; exit 1; }

log "starting etcd on 127.0.0.1:$ETCD_CLIENT"
start etcd "$BIN/etcd" --name=node0 --data-dir="$D/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster="node0=http://127.0.0.1:$ETCD_PEER" --listen-metrics-urls="" \
  --unsafe-no-fsync=true --auto-compaction-retention=1 --quota-backend-bytes=2147483648

log "starting kube-apiserver on $SERVER"
start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_CLIENT" \
  --bind-address=127.0.0.1 --secure-port="$PORT" --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --token-auth-file="$D/tokens.csv" --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
  --enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity \
  --audit-policy-file="$D/audit-policy.yaml" --audit-log-path="$D/audit.log" --audit-log-format=json \
  --audit-log-mode=blocking --audit-log-maxsize=500 --audit-log-maxbackup=2 \
  --max-requests-inflight=0 --max-mutating-requests-inflight=0 --enable-priority-and-fairness=false

for _ in $(seq 1 180); do
  ready && break
  alive etcd || fail etcd etcd
  alive kube-apiserver || fail kube-apiserver kube-apiserver
  sleep 0.5
done
ready || fail "kube-apiserver /readyz" kube-apiserver

K() { "$BIN/kubectl" --kubeconfig="$D/admin.kubeconfig" "$@"; }
ALLOW=/healthz,/readyz,/livez,/metrics
# (No --authentication-kubeconfig: without a front proxy CA it logs errors forever, and the
# secure ports only serve health and metrics, which are always allowed.)
authn() { # component: its own identity for API calls
  printf '%s\n' "--kubeconfig=$D/$1.kubeconfig" "--authorization-always-allow-paths=$ALLOW" \
    --bind-address=127.0.0.1 --leader-elect=false
}
mapfile -t KCM_AUTHN < <(authn kcm)
mapfile -t SCHED_AUTHN < <(authn scheduler)
log "starting kube-controller-manager (127.0.0.1:$KCM_PORT) and kube-scheduler (127.0.0.1:$SCHED_PORT)"
start kcm "$BIN/kube-controller-manager" "${KCM_AUTHN[@]}" --secure-port="$KCM_PORT" \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --node-monitor-grace-period=3m20s
start scheduler "$BIN/kube-scheduler" "${SCHED_AUTHN[@]}" --secure-port="$SCHED_PORT"

STAGES="$BIN/../kwok-stages"
log "starting kwok (127.0.0.1:$KWOK_PORT) with $NODES fake node(s)"
start kwok "$BIN/kwok" --kubeconfig="$D/kwok.kubeconfig" --manage-all-nodes=true \
  --config="$STAGES/node/fast/node-initialize.yaml" \
  --config="$STAGES/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
  --config="$STAGES/pod/fast/pod-ready.yaml" --config="$STAGES/pod/fast/pod-complete.yaml" \
  --config="$STAGES/pod/fast/pod-delete.yaml" \
  --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=10.0.0.1 \
  --server-address="127.0.0.1:$KWOK_PORT"

nodes_yaml() {
  local i
  for i in $(seq 0 $((NODES - 1))); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "64", memory: 256Gi, ephemeral-storage: 1Ti, pods: "250"}
  capacity: {cpu: "64", memory: 256Gi, ephemeral-storage: 1Ti, pods: "250"}
EOF
  done
}
nodes_yaml | K apply -f - >/dev/null
for _ in $(seq 1 240); do
  alive kcm || fail kube-controller-manager kcm
  alive scheduler || fail kube-scheduler scheduler
  alive kwok || fail kwok kwok
  if K wait --for=condition=Ready node --all --timeout=1s >/dev/null 2>&1 &&
     K -n default get serviceaccount default >/dev/null 2>&1; then
    say_ready
    exit 0
  fi
  sleep 0.5
done
log "timed out waiting for Ready nodes and the default ServiceAccount"
K get nodes >&2 || true
exit 1
