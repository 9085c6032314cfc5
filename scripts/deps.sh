#!/usr/bin/env bash
# Installs the Debian 12 packages ovs-vpc needs to build and test, if any is
# missing (openvswitch-source is OVS 3.1.0, built by ovs-ext/ovs.mk).  Quiet
# and quick when everything is already there.
#   scripts/deps.sh --bench   only the benchmarks' extra packages (gnuplot,
#                             for make bench-ovn's plot), nothing else.
set -euo pipefail

PKGS=(
  build-essential autoconf automake libtool pkg-config python3
  openvswitch-source
  libevent-dev libcmocka-dev libssl-dev libcap-ng-dev
  iproute2 ethtool tcpdump iputils-ping netcat-openbsd procps jq curl
  python3-jsonschema
  clang-14 libclang-rt-14-dev
  strongswan-charon strongswan-swanctl libcharon-extra-plugins
  ovn-central
  graphviz python3-jsonschema
  groff-base man-db
  busybox isc-dhcp-client bind9-dnsutils
)
if [ "${1:-}" = --bench ]; then
  PKGS=(gnuplot-nox)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
