#!/usr/bin/env bash
# distribute.sh — copy each node's bundle and the hardway binary to the node over ssh, and run
# `hardway launch` there.
#
# usage: scripts/distribute.sh [options] [NODE=HOST ...]
#
#   -d DIR     the cluster directory `hardway init` wrote (default: ./cluster)
#   -b FILE    the hardway binary to install on the nodes (default: `hardway` on PATH)
#   -u USER    ssh as USER (default: ssh's own default, e.g. from ~/.ssh/config)
#   -s         run the remote steps with sudo (when USER is not root)
#   -r DIR     where the bundle is copied on the node (default: /var/lib/hardway)
#   -t DUR     passed to `hardway launch --timeout` (default: launch's own, 2m per tier)
#   -S         launch the nodes one after another instead of all at once
#   -n         dry run: print the commands, run nothing
#   -h         this help
#
# Nodes: NODE=HOST pairs from the command line; without any, every node of DIR/cluster.yaml,
# reached at its first address. NODE is the name in the cluster file, HOST anything ssh accepts.
#
# For each node, in two phases:
#   1. copy: DIR/nodes/NODE.tar.gz to the node's -r DIR (mode 0600: it holds the node's keys),
#      with DIR/signing/bundle.pub (the key the bundle's signature is checked with: copied over
#      the same ssh channel you trust to reach the node), and the hardway binary to /usr/local/bin/hardway (the path the units run `hardway etcd`
#      from when the cluster uses hardway's etcd). When the bundles carry programs
#      (`hardway init --with-binaries`), the artifacts the node's manifest references, and only
#      those (a worker gets kubelet and kube-proxy), go to -r DIR/artifacts/sha256/<hash>, beside
#      the archive, where launch looks for them; one the node already holds whole is not copied
#      again.
#   2. launch: `hardway launch --node NODE --bundle -r DIR/NODE.tar.gz --trust -r DIR/bundle.pub`
#      on the node, which checks the bundle's signature,
#      installs the files that changed and starts or restarts only the units that need it.
#      The first control-plane node's launch also applies the cluster's bootstrap RBAC.
#
# Nodes are launched all at once by default: the members of a multi-node etcd cluster only
# report healthy once a quorum of them runs, so launching them one by one would wait forever.
# Each node's launch output goes to DIR/distribute/NODE.log and is printed when it ends.
#
# Extra ssh/scp options come from the environment, e.g. SSH_OPTS='-o StrictHostKeyChecking=yes -i key'.
# Running it again is safe: a launch with nothing changed touches nothing and says so.
#
# Exit status: 0 when every node launched, 1 when any failed (the failed nodes are listed),
# 2 on a usage error.
set -euo pipefail

prog=$(basename "$0")
dir=./cluster
binary=
user=
sudo=
remote_dir=/var/lib/hardway
timeout=
sequential=
dry_run=

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

die() {
  echo "$prog: $*" >&2
  exit 2
}

while getopts ':d:b:u:sr:t:Snh' opt; do
  case $opt in
    d) dir=$OPTARG ;;
    b) binary=$OPTARG ;;
    u) user=$OPTARG ;;
    s) sudo=sudo ;;
    r) remote_dir=$OPTARG ;;
    t) timeout=$OPTARG ;;
    S) sequential=1 ;;
    n) dry_run=1 ;;
    h) usage; exit 0 ;;
    :) die "-$OPTARG needs a value (see -h)" ;;
    *) die "unknown option -$OPTARG (see -h)" ;;
  esac
done
shift $((OPTIND - 1))

read -r -a ssh_opts <<<"${SSH_OPTS:-}"

if [ -z "$binary" ]; then
  binary=$(command -v hardway || true)
  [ -n "$binary" ] || die "no hardway on PATH; give the binary with -b FILE"
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
  die "$binary is not an executable file"
fi
[ -d "$dir/nodes" ] || die "$dir/nodes does not exist; run \`hardway init --dir $dir\` first, or give the cluster directory with -d"
case $remote_dir in
  /*) ;;
  *) die "-r $remote_dir: want an absolute path on the node" ;;
esac

# nodes_from_cluster prints NODE=HOST for every node of the cluster.yaml hardway init wrote
# (its own, fixed layout: a top-level "nodes:" list whose items have "name:" and "addresses:").
nodes_from_cluster() {
  awk '
    function unquote(s) { gsub(/^["'\'']|["'\'']$/, "", s); return s }
    function flush() { if (name != "") print name "=" addr; name = ""; addr = ""; inaddr = 0 }
    /^[^ #-]/ { if (innodes) flush(); innodes = ($0 ~ /^nodes:/); next }
    !innodes { next }
    /^- / { flush(); sub(/^- /, "  ") }
    /^  name:/ { name = unquote($2); inaddr = 0; next }
    /^  addresses:/ { inaddr = 1; next }
    /^  [^ -]/ { inaddr = 0 }
    inaddr && /^  - / && addr == "" { addr = unquote($2) }
    END { if (innodes) flush() }
  ' "$1"
}

pairs=("$@")
if [ ${#pairs[@]} -eq 0 ]; then
  [ -f "$dir/cluster.yaml" ] || die "$dir/cluster.yaml does not exist; give NODE=HOST pairs or -d DIR"
  mapfile -t pairs < <(nodes_from_cluster "$dir/cluster.yaml")
  [ ${#pairs[@]} -gt 0 ] || die "no nodes found in $dir/cluster.yaml"
fi

nodes=()
hosts=()
for pair in "${pairs[@]}"; do
  case $pair in
    ?*=?*) ;;
    *) die "$pair: want NODE=HOST" ;;
  esac
  node=${pair%%=*}
  host=${pair#*=}
  [ -f "$dir/nodes/$node.tar.gz" ] || die "$dir/nodes/$node.tar.gz does not exist: is $node a node of this cluster? (run \`hardway init\` again after adding it)"
  nodes+=("$node")
  hosts+=("$host")
done

# run prints a command and runs it unless this is a dry run.
run() {
  echo "+ $*"
  [ -n "$dry_run" ] || "$@"
}

# q quotes one word for the remote shell.
q() { printf '%q' "$1"; }

target() {
  if [ -n "$user" ]; then echo "$user@$1"; else echo "$1"; fi
}

# artifacts_of prints the sha256 of every artifact node's manifest references (the entries
# with "artifact": true; hardway writes each field on a line of its own, sha256 before it).
artifacts_of() {
  awk '/"sha256":/ { gsub(/[",]/, "", $2); sum = $2 } /"artifact": true/ { print sum }' "$dir/nodes/$1/manifest.json"
}

# copy_to copies node's bundle, the artifacts it references and the binary to dest (see the
# header).
copy_to() {
  local node=$1 dest=$2 rd staging sums=() missing=() files=() h check=true install_artifacts=true
  rd=$(q "$remote_dir")
  staging=$(q "$remote_dir/.incoming")
  mapfile -t sums < <(artifacts_of "$node")
  # A staging directory the ssh user owns, so scp can write there even when the user is not root.
  run ssh "${ssh_opts[@]}" "$dest" "$sudo install -d -m 0700 $rd && $sudo install -d -m 0700 -o \$(id -u) $staging" || return 1
  if [ ${#sums[@]} -gt 0 ]; then
    # The artifacts the node lacks, or holds damaged: print each hash that does not check out.
    check="for h in ${sums[*]}; do echo \"\$h  $rd/artifacts/sha256/\$h\" | $sudo sha256sum -c --status 2>/dev/null || echo \$h; done"
    if [ -n "$dry_run" ]; then
      echo "+ ssh $dest <check $rd/artifacts/sha256/ for ${#sums[@]} artifact(s)>"
      missing=("${sums[@]}")
    else
      mapfile -t missing < <(ssh "${ssh_opts[@]}" "$dest" "$check") || return 1
    fi
    for h in "${missing[@]}"; do
      [ -f "$dir/artifacts/sha256/$h" ] || { echo "$prog: $dir/artifacts/sha256/$h (in $node's manifest) does not exist; run \`hardway init --with-binaries DIR\` again" >&2; return 1; }
      files+=("$dir/artifacts/sha256/$h")
    done
    install_artifacts="$sudo install -d -m 0755 $rd/artifacts $rd/artifacts/sha256"
    for h in "${missing[@]}"; do
      install_artifacts+=" && $sudo install -m 0644 $staging/$h $rd/artifacts/sha256/$h"
    done
  fi
  run scp -q "${ssh_opts[@]}" "$dir/nodes/$node.tar.gz" "$dir/signing/bundle.pub" "$binary" "${files[@]}" "$dest:$remote_dir/.incoming/" &&
    run ssh "${ssh_opts[@]}" "$dest" "$install_artifacts && $sudo install -m 0600 $staging/$(q "$node.tar.gz") $rd/$(q "$node.tar.gz") && $sudo install -m 0644 $staging/bundle.pub $rd/bundle.pub && $sudo install -m 0755 $staging/$(q "$(basename "$binary")") /usr/local/bin/hardway && $sudo rm -rf $staging"
}

# 1. copy, every node before any launch: stop at the first node that cannot be reached.
for i in "${!nodes[@]}"; do
  node=${nodes[$i]}
  dest=$(target "${hosts[$i]}")
  echo "== $node ($dest): copy"
  if ! copy_to "$node" "$dest"; then
    echo "$prog: copying to $node ($dest) failed; no node was launched" >&2
    exit 1
  fi
done

# 2. launch
logs="$dir/distribute"
[ -n "$dry_run" ] || mkdir -p "$logs"
launch_args=()
[ -z "$timeout" ] || launch_args+=(--timeout "$(q "$timeout")")

launch() {
  local node=$1 dest=$2
  run ssh "${ssh_opts[@]}" "$dest" "$sudo /usr/local/bin/hardway launch --node $(q "$node") --bundle $(q "$remote_dir/$node.tar.gz") --trust $(q "$remote_dir/bundle.pub")${launch_args[*]:+ ${launch_args[*]}}"
}

failed=()
pids=()
for i in "${!nodes[@]}"; do
  node=${nodes[$i]}
  dest=$(target "${hosts[$i]}")
  echo "== $node ($dest): launch"
  if [ -n "$dry_run" ]; then
    launch "$node" "$dest"
  elif [ -n "$sequential" ]; then
    if ! launch "$node" "$dest" 2>&1 | tee "$logs/$node.log"; then
      failed+=("$node")
    fi
  else
    launch "$node" "$dest" >"$logs/$node.log" 2>&1 &
    pids+=($!)
  fi
done
for i in "${!pids[@]}"; do
  node=${nodes[$i]}
  if wait "${pids[$i]}"; then status=ok; else status=FAILED; failed+=("$node"); fi
  echo "== $node: launch $status ($logs/$node.log)"
  sed "s/^/$node: /" "$logs/$node.log"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "$prog: launch failed on: ${failed[*]}" >&2
  exit 1
fi
[ -n "$dry_run" ] || echo "$prog: ${#nodes[@]} node(s) launched"
