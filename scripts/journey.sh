#!/usr/bin/env bash
# journey.sh walks the getting-started journey (docs/getting-started.md)
# against a running `gpcore serve`: register, billing profile and test card,
# project, SSH key, catalog, two nodes watched on SubscribeNotifications,
# power off/on and reset, rescue on/off, reinstall, destroy, usage and project log.
#
# Unary calls go over Connect JSON with curl; the catalog, the second order
# and the notification stream go over gRPC with grpcurl (server reflection).
#
#   scripts/journey.sh [BASE_URL]        default http://127.0.0.1:8080
#
# Needs curl, jq, grpcurl and ssh-keygen. The server must use the built-in
# test payment provider (no Stripe keys) and have the seed's two BM-L1
# servers in fra1 free: the two nodes take both, so the flavour's
# availability goes from LOW to OUT_OF_STOCK and back to LOW once they are
# destroyed, which the journey checks. JOURNEY_TIMEOUT (seconds, default
# 120) bounds each wait.
set -euo pipefail

API=${1:-http://127.0.0.1:8080}
API=${API%/}
HOSTPORT=${API#*://}
HOSTPORT=${HOSTPORT%%/*}
TIMEOUT=${JOURNEY_TIMEOUT:-120}

for tool in curl jq grpcurl ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "journey: $tool is required" >&2; exit 2; }
done

WORK=$(mktemp -d)
STREAM_PID=
cleanup() {
  if [ -n "$STREAM_PID" ]; then kill "$STREAM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

FLAVOUR_NAME=BM-L1

step() { printf '\n== %s\n' "$*"; }
fail() { echo "journey: FAIL: $*" >&2; exit 1; }

# call SERVICE/METHOD JSON: a Connect unary call; fails on a non-200 answer.
call() {
  local out code
  out=$(curl -sS -X POST "$API/$1" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d "$2" -w '\n%{http_code}')
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$code" != 200 ]; then
    echo "journey: $1 answered HTTP $code: $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# valid_ipv4 ADDRESS: ADDRESS is an IPv4 address in dotted-quad form (no
# leading zeros).
valid_ipv4() {
  local octet octets
  [[ $1 =~ ^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$ ]] || return 1
  IFS=. read -ra octets <<<"$1"
  for octet in "${octets[@]}"; do
    (( octet <= 255 )) || return 1
  done
}

# valid_ipv6 ADDRESS: ADDRESS is an IPv6 address: eight groups of 1-4 hex
# digits, or fewer around one "::".
valid_ipv6() {
  local addr=$1 part group groups n=0
  [[ $addr =~ ^[0-9A-Fa-f:]+$ && $addr != *:::* ]] || return 1
  # A single colon may not start or end the address.
  [[ $addr == :* && $addr != ::* ]] && return 1
  [[ $addr == *: && $addr != *:: ]] && return 1
  local head=$addr tail=
  if [[ $addr == *::* ]]; then
    head=${addr%%::*} tail=${addr#*::}
    [[ $tail == *::* ]] && return 1
  fi
  for part in "$head" "$tail"; do
    [ -n "$part" ] || continue
    IFS=: read -ra groups <<<"$part"
    for group in "${groups[@]}"; do
      [[ $group =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1
      n=$(( n + 1 ))
    done
  done
  if [[ $addr == *::* ]]; then (( n <= 7 )); else (( n == 8 )); fi
}

# rpc SERVICE/METHOD JSON: the same over gRPC with grpcurl.
rpc() {
  grpcurl -plaintext -max-time 30 -H "authorization: Bearer $TOKEN" -d "$2" "$HOSTPORT" "$1"
}

# wait_until DESCRIPTION COMMAND...: runs COMMAND every second until it
# succeeds, for at most $TIMEOUT seconds.
wait_until() {
  local what=$1 start=$SECONDS
  shift
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= TIMEOUT )); then fail "$what: not within ${TIMEOUT}s"; fi
    sleep 1
  done
  echo "   $what ($(( SECONDS - start ))s)"
}

# retry_busy DESCRIPTION SERVICE/METHOD JSON: a node takes one request at a
# time; retry while it answers failed_precondition (busy).
retry_busy() {
  local what=$1 start=$SECONDS out
  while ! out=$(call "$2" "$3" 2>&1); do
    case $out in
      *failed_precondition*) ;;
      *) fail "$what: $out" ;;
    esac
    if (( SECONDS - start >= TIMEOUT )); then fail "$what: node still busy after ${TIMEOUT}s"; fi
    sleep 1
  done
  printf '%s\n' "$out"
}

step "Register and sign in at $API"
EMAIL="journey-$(date +%s)-$RANDOM@example.com"
PASSWORD="correct horse battery"
TOKEN=
curl -sS -f -X POST "$API/gpcore.api.auth.v1.AuthService/Register" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p, firstName: "Ada", lastName: "Lovelace"}')" \
  | jq -c '{user: .user.email}'
curl -sS -f "$API/realms/gpcore/protocol/openid-connect/token" \
  -d grant_type=password -d client_id=gpcore-cli \
  --data-urlencode "username=$EMAIL" --data-urlencode "password=$PASSWORD" > "$WORK/tokens.json"
TOKEN=$(jq -r .access_token "$WORK/tokens.json")
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || fail "no access token"
call gpcore.api.auth.v1.AuthService/GetUser '{}' | jq -c '.user | {id, email}'

step "Billing profile and test card"
PROFILE=$(call gpcore.api.payment.v1.PaymentService/CreateBillingProfile '{
  "name": "Ada Lovelace", "company": "Analytical Engines GmbH", "vatId": "DE123456789",
  "countryCode": "DE", "street": "Unter den Linden 1", "city": "Berlin",
  "postcode": "10117", "billingEmail": "billing@example.com"}' | jq -r .billingProfile.id)
echo "   billing profile $PROFILE"
SETUP=$(call gpcore.api.payment.v1.PaymentService/AddCreditCard "{\"billingProfileId\":\"$PROFILE\"}" | jq -r .stripeSetupIdent)
curl -sS -f "$API/payment/test/confirm" -d "setup_intent=$SETUP" -d payment_method=tok_visa | jq -c .

step "Project"
PROJECT=$(call gpcore.api.cloud.v1.CloudService/CreateProject \
  "{\"name\":\"Web shop\",\"billingAddressId\":\"$PROFILE\"}" | jq -r .project.id)
echo "   project $PROJECT"
LOCKS=$(call gpcore.api.cloud.v1.CloudService/GetProjectLocks "{\"id\":\"$PROJECT\"}")
[ "$(jq -c '.lockReasons // []' <<<"$LOCKS")" = "[]" ] || fail "project is locked: $LOCKS"

step "SSH key"
ssh-keygen -q -t ed25519 -N '' -C journey@laptop -f "$WORK/key"
KEY=$(call gpcore.api.cloud.v1.CloudService/CreateUserSSHKey \
  "$(jq -n --arg key "$(cat "$WORK/key.pub")" '{name: "laptop", publicKey: $key}')" | jq -r .sshKey.id)
echo "   ssh key $KEY"

step "Datacenters, flavours, images"
rpc gpcore.api.cloud.v1.CloudService/ListDatacenters '{}' > "$WORK/dcs.json"
jq -c '.datacenters[] | {short, status}' "$WORK/dcs.json"
DC=$(jq -r '.datacenters[] | select(.short == "fra1") | .id' "$WORK/dcs.json")
[ -n "$DC" ] || fail "no datacenter fra1"
# Sold-out flavours too, so that OUT_OF_STOCK shows rather than no entry.
flavours() {
  call gpcore.api.cloud.v1.CloudService/ListProjectFlavours \
    "{\"id\":\"$PROJECT\",\"datacenterId\":\"$DC\",\"includeSoldOut\":true}"
}
# availability_is AVAILABILITY: the flavour's availability is that.
availability_is() {
  flavours | jq -e --arg name "$FLAVOUR_NAME" --arg a "FLAVOUR_AVAILABILITY_$1" \
    '[.flavours[] | select(.name == $name) | .availability] == [$a]'
}
flavours > "$WORK/flavours.json"
jq -c '.flavours[] | {name, availability, perHour: .pricePerHour.formatted}' "$WORK/flavours.json"
FLAVOUR=$(jq -r --arg name "$FLAVOUR_NAME" '.flavours[] | select(.name == $name) | .id' "$WORK/flavours.json")
AVAILABILITY=$(jq -r --arg name "$FLAVOUR_NAME" '.flavours[] | select(.name == $name) | .availability' "$WORK/flavours.json")
[ -n "$FLAVOUR" ] || fail "no flavour $FLAVOUR_NAME"
[ "$AVAILABILITY" = FLAVOUR_AVAILABILITY_LOW ] \
  || fail "$FLAVOUR_NAME in fra1 is $AVAILABILITY; the journey needs the seed's two free servers (LOW)"
IMAGE=$(call gpcore.api.cloud.v1.CloudService/ListPublicImages "{\"flavourId\":\"$FLAVOUR\"}" \
  | jq -r '.operatingSystems[].images[] | select(.alias == "debian-12") | .id')
[ -n "$IMAGE" ] || fail "no image debian-12 for $FLAVOUR_NAME"
echo "   fra1 $DC, $FLAVOUR_NAME $FLAVOUR ($AVAILABILITY), debian-12 $IMAGE"

step "Subscribe to notifications"
grpcurl -plaintext -H "authorization: Bearer $TOKEN" "$HOSTPORT" \
  gpcore.api.cloud.v1.CloudService/SubscribeNotifications > "$WORK/stream.json" 2>"$WORK/stream.err" &
STREAM_PID=$!
wait_until "stream is live (first heartbeat)" grep -q heartbeat "$WORK/stream.json"

step "Order two nodes"
order() {
  jq -n --arg project "$PROJECT" --arg dc "$DC" --arg flavour "$FLAVOUR" --arg image "$IMAGE" --arg key "$KEY" --arg fqdn "$1" \
    '{projectId: $project, datacenterId: $dc, flavourId: $flavour, imageId: $image,
      sshKeyIds: [$key], fqdns: [$fqdn], billingPeriod: "BILLING_PERIOD_HOURLY"}'
}
NODE1=$(call gpcore.api.cloud.v1.CloudService/CreateNode "$(order web1.example.com)" | jq -r '.nodes[0].id')
NODE2=$(rpc gpcore.api.cloud.v1.CloudService/CreateNode "$(order web2.example.com)" | jq -r '.nodes[0].id')
echo "   web1 $NODE1 (Connect), web2 $NODE2 (gRPC)"

# stream_shows ID JQ-FILTER: the stream carried node ID in a state the filter accepts.
stream_shows() {
  jq -e -s --arg id "$1" "[.[] | .notification.node? // empty | select(.id == \$id) | $2] | any" "$WORK/stream.json"
}
for id in "$NODE1" "$NODE2"; do
  wait_until "stream: $id ACTIVE" stream_shows "$id" '.status == "SERVER_PROVISIONING_STATE_ACTIVE"'
done
getnode() { call gpcore.api.cloud.v1.CloudService/GetNode "{\"projectId\":\"$PROJECT\",\"id\":\"$1\"}"; }
ALL_IPS=()
for id in "$NODE1" "$NODE2"; do
  getnode "$id" > "$WORK/node.json"
  jq -c '.node | {fqdn, status, powerState, ips: [.networkInterfaces[]?.ipAddresses[]?]}' "$WORK/node.json"
  mapfile -t ips < <(jq -r '.node.networkInterfaces[]?.ipAddresses[]?' "$WORK/node.json")
  (( ${#ips[@]} > 0 )) || fail "node $id has no IP address"
  for ip in "${ips[@]}"; do
    valid_ipv4 "$ip" || valid_ipv6 "$ip" || fail "node $id: \"$ip\" is not an IP address"
  done
  ALL_IPS+=("${ips[@]}")
done
[ "$(printf '%s\n' "${ALL_IPS[@]}" | sort | uniq -d)" = "" ] || fail "two nodes share an address: ${ALL_IPS[*]}"
echo "   addresses: ${ALL_IPS[*]}"
# Both of the flavour's servers are taken now.
availability_is OUT_OF_STOCK || fail "$FLAVOUR_NAME with both servers taken: $(flavours | jq -c --arg name "$FLAVOUR_NAME" '[.flavours[] | select(.name == $name) | .availability]'), want OUT_OF_STOCK"
echo "   $FLAVOUR_NAME is OUT_OF_STOCK"

step "Power off and on web1, then reset it"
node_is() { getnode "$NODE1" | jq -e "$1"; }
retry_busy "power off" gpcore.api.cloud.v1.CloudService/PowerActionNode \
  "{\"projectId\":\"$PROJECT\",\"id\":\"$NODE1\",\"powerState\":\"SERVER_POWER_STATE_OFF\"}" >/dev/null
wait_until "web1 is off" node_is '.node.powerState == "SERVER_POWER_STATE_OFF"'
retry_busy "power on" gpcore.api.cloud.v1.CloudService/PowerActionNode \
  "{\"projectId\":\"$PROJECT\",\"id\":\"$NODE1\",\"powerState\":\"SERVER_POWER_STATE_ON\"}" >/dev/null
wait_until "web1 is on" node_is '.node.powerState == "SERVER_POWER_STATE_ON" and .node.status == "SERVER_PROVISIONING_STATE_ACTIVE"'
retry_busy "reset" gpcore.api.cloud.v1.CloudService/PowerActionNode \
  "{\"projectId\":\"$PROJECT\",\"id\":\"$NODE1\",\"powerState\":\"SERVER_POWER_STATE_RESET\"}" >/dev/null
wait_until "the reset of web1 has ended" node_is '.node.powerState == "SERVER_POWER_STATE_ON" and .node.status == "SERVER_PROVISIONING_STATE_ACTIVE"'

step "Rescue mode on and off"
retry_busy "rescue on" gpcore.api.cloud.v1.CloudService/ChangeNodeRescueMode \
  "{\"projectId\":\"$PROJECT\",\"id\":\"$NODE1\",\"rescueMode\":{\"enabled\":true}}" \
  | jq -e -c '{rescuePassword: (.rescueMode.password | length > 0)}'
wait_until "web1 in rescue" node_is '.node.status == "SERVER_PROVISIONING_STATE_RESCUE"'
retry_busy "rescue off" gpcore.api.cloud.v1.CloudService/ChangeNodeRescueMode \
  "{\"projectId\":\"$PROJECT\",\"id\":\"$NODE1\",\"rescueMode\":{\"enabled\":false}}" >/dev/null
wait_until "web1 active again" node_is '.node.status == "SERVER_PROVISIONING_STATE_ACTIVE"'

step "Reinstall web1"
retry_busy "reinstall" gpcore.api.cloud.v1.CloudService/ReinstallNode \
  "$(jq -n --arg project "$PROJECT" --arg id "$NODE1" --arg image "$IMAGE" --arg key "$KEY" \
    '{projectId: $project, id: $id, fqdn: "web1.example.com", imageId: $image, sshKeyIds: [$key]}')" >/dev/null
wait_until "stream: web1 rebuilding" stream_shows "$NODE1" '.status == "SERVER_PROVISIONING_STATE_REBUILD"'
wait_until "web1 active after reinstall" node_is '.node.status == "SERVER_PROVISIONING_STATE_ACTIVE"'

step "Destroy both"
gone() {
  local out
  if out=$(getnode "$1" 2>&1); then return 1; fi
  [[ $out == *not_found* ]]
}
for id in "$NODE1" "$NODE2"; do
  retry_busy "destroy $id" gpcore.api.cloud.v1.CloudService/DestroyNode "{\"projectId\":\"$PROJECT\",\"id\":\"$id\"}" >/dev/null
done
for id in "$NODE1" "$NODE2"; do
  wait_until "$id gone" gone "$id"
done
wait_until "$FLAVOUR_NAME availability back to LOW" availability_is LOW
[ "$(call gpcore.api.cloud.v1.CloudService/ListNodes "{\"id\":\"$PROJECT\"}" | jq '.nodes // [] | length')" = 0 ] \
  || fail "ListNodes still lists nodes"

step "Usage and project log"
call gpcore.api.cloud.v1.CloudService/GetProjectUsage "{\"id\":\"$PROJECT\",\"detailed\":true}" \
  | jq -e -c '.usage | {total: .total.formatted, lines: [.flavourUsages[] | {flavour: .flavour.name, units, unitType}]}'
call gpcore.api.cloud.v1.CloudService/ListProjectLogs "{\"id\":\"$PROJECT\"}" \
  | jq -e -c '.logs | if length > 0 then length else error("empty project log") end | {logEntries: .}'

step "Stream summary"
jq -c -s '[.[] | .notification.node? // empty | {fqdn, status}] | group_by(.fqdn)[] | {fqdn: .[0].fqdn, states: [.[].status] | unique}' "$WORK/stream.json" || true

printf '\njourney: OK\n'
