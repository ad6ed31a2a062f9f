#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: broker and controller in one JVM) and a Redis on this
# machine, for running Expressway's distributed mode locally. The tests and benchmarks use the
# same broker jars (crates/testkit).
#
#   deploy/local/stack.sh start     start Kafka and Redis, print their addresses
#   deploy/local/stack.sh stop      stop both (their data is kept for the next start)
#   deploy/local/stack.sh status    say what runs
#   deploy/local/stack.sh reset     stop both and delete their data
#   deploy/local/stack.sh jars      fetch the broker's jars once and print their directory
#   deploy/local/stack.sh tool CLASS [ARGS…]   run a Kafka tool with the same jars, e.g.
#        tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
#
# Settings (environment): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), REDIS_PORT (6379),
# EXPRESSWAY_LOCAL_DIR (data and logs; default ${TMPDIR:-/tmp}/expressway-local),
# EXPRESSWAY_CACHE (jar cache; default ${XDG_CACHE_HOME:-~/.cache}/expressway),
# KAFKA_HEAP (512m). Needs Java 17+ and Maven (the jars come from Maven Central; ~/.m2 keeps
# the downloads) and redis-server.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
cache="${EXPRESSWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/expressway}"
# Keyed on the version and on the pom itself, so a changed dependency list fetches anew.
key="$(sha256sum "$pom" | cut -c1-12)"
libs="$cache/kafka-$version-$key/libs"

state="${EXPRESSWAY_LOCAL_DIR:-${TMPDIR:-/tmp}/expressway-local}"
kafka_port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
redis_port="${REDIS_PORT:-6379}"

die() { echo "stack.sh: $*" >&2; exit 1; }

jars() {
  if [ -f "$libs/.complete" ]; then
    echo "$libs"
    return
  fi
  command -v java >/dev/null || die "java not found (Kafka $version needs Java 17 or newer)"
  command -v mvn >/dev/null || die "mvn not found (the broker's jars are fetched from Maven Central with Maven)"
  mkdir -p "$cache"
  # One fetch at a time, whoever asks (parallel test binaries, say).
  exec 9>"$cache/.kafka-$version-$key.lock"
  flock 9
  if [ ! -f "$libs/.complete" ]; then
    rm -rf "$libs"
    echo "fetching the Apache Kafka $version jars into $libs" >&2
    mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >&2 \
      || die "could not fetch the Kafka jars with Maven"
    touch "$libs/.complete"
  fi
  exec 9>&-
  echo "$libs"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

tool() {
  local dir
  dir="$(jars)"
  java -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -cp "$dir/*" "$@"
}

start_kafka() {
  local dir="$state/kafka"
  if pid_alive "$dir/pid"; then
    echo "kafka: already running on 127.0.0.1:$kafka_port (pid $(cat "$dir/pid"))"
    return
  fi
  port_open "$kafka_port" && die "port $kafka_port is taken (set KAFKA_PORT)"
  local l
  l="$(jars)"
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=8
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id
    id="$(tool kafka.tools.StorageTool random-uuid)"
    tool kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || die "formatting the broker's storage failed: $(cat "$dir/format.log")"
  fi
  local heap="${KAFKA_HEAP:-512m}"
  nohup java -Xmx"$heap" -Xms"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" \
    -cp "$l/*" kafka.Kafka "$dir/server.properties" >"$dir/server.log" 2>&1 &
  echo $! >"$dir/pid"
  # Ready when the broker answers an admin request (describe cluster), not after a guess.
  for _ in $(seq 1 120); do
    pid_alive "$dir/pid" || die "the broker exited: see $dir/server.log"
    if port_open "$kafka_port" && tool org.apache.kafka.tools.ClusterTool cluster-id \
      --bootstrap-server "127.0.0.1:$kafka_port" >/dev/null 2>&1; then
      echo "kafka: 127.0.0.1:$kafka_port (Apache Kafka $version, KRaft; logs $dir/server.log)"
      return
    fi
    sleep 0.5
  done
  die "the broker did not become ready within a minute: see $dir/server.log"
}

start_redis() {
  local dir="$state/redis"
  if pid_alive "$dir/pid"; then
    echo "redis: already running on redis://127.0.0.1:$redis_port"
    return
  fi
  command -v redis-server >/dev/null || die "redis-server not found (Debian: apt-get install redis-server)"
  port_open "$redis_port" && die "port $redis_port is taken (set REDIS_PORT)"
  mkdir -p "$dir"
  # AOF with an fsync every second, as the README recommends for Expressway's Redis.
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync everysec \
    --save "" --daemonize yes --pidfile "$dir/pid" --logfile "$dir/redis.log"
  for _ in $(seq 1 100); do
    if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
      echo "redis: redis://127.0.0.1:$redis_port (data $dir)"
      return
    fi
    sleep 0.1
  done
  die "redis-server did not answer: see $dir/redis.log"
}

stop_one() {
  local name="$1" pidfile="$2"
  if pid_alive "$pidfile"; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
    echo "$name: stopped"
  else
    echo "$name: not running"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  jars) jars ;;
  tool) shift; tool "$@" ;;
  start)
    start_kafka
    start_redis
    echo
    echo "expressway frontend --kafka-bootstrap-servers 127.0.0.1:$kafka_port --redis-url redis://127.0.0.1:$redis_port"
    ;;
  stop)
    stop_one kafka "$state/kafka/pid"
    stop_one redis "$state/redis/pid"
    ;;
  status)
    if pid_alive "$state/kafka/pid"; then echo "kafka: running on 127.0.0.1:$kafka_port"; else echo "kafka: not running"; fi
    if pid_alive "$state/redis/pid"; then echo "redis: running on redis://127.0.0.1:$redis_port"; else echo "redis: not running"; fi
    ;;
  reset)
    "$0" stop
    rm -rf "$state"
    echo "data removed: $state"
    ;;
  *)
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
