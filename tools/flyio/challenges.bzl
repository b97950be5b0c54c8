"""The one table of the challenges: Fly.io's Gossip Glomers series and Maelstrom's own workloads.

Everything that runs a challenge reads it from here:
  - the challenge BUILD files declare their Maelstrom tests with challenge_test (Fly.io's
    rows also with its older name, flyio_test; tools/flyio/defs.bzl), which takes the
    command line and the bounds from this table;
  - tools/fixtures/BUILD.bazel runs broken nodes the way the challenge they break is run;
  - Go code (the scoreboard, the workbench's closing summary) reads the same table from
    tools/flyio/challenges.json, generated from it (bazel run //tools/flyio:update writes
    the checked-in copy; //tools/flyio:challenges_json_test fails when it is stale).

Two suites, one list: _FLYIO holds Fly.io's challenges in the order of its pages, and
_MAELSTROM the workloads Maelstrom's own course goes on to (CRDTs, transactions, Raft),
with the command lines of Maelstrom's documentation (doc/04-crdts, doc/05-datomic,
doc/06-raft). CHALLENGES is the two in that order; the scoreboard shows a section each.

Fields of a challenge:
  suite        "flyio" (Fly.io's series) or "maelstrom" (Maelstrom's own course).
  id, name     Fly.io's number (1, 2, 3a … 6c) and title. 6b-partition is this project's
               partitioned variant of 6b, judged like 6c. Maelstrom's rows are named after
               their workload, with a suffix for a variant (-partition, -5 nodes).
  binary       the challenge binary, //challenges/<binary>.
  workload     the Maelstrom workload (-w).
  args         Fly.io's (or Maelstrom's documentation's) command line after -w and --bin,
               without --time-limit. 6c uses a plain --nemesis where the page's text has
               an en dash.
  env          environment of the run (the nodes inherit it): GOSSIP_PRESET for 3d/3e,
               KAFKA_MODE for 5b/5c.
  time_limit   Fly.io's (Maelstrom's) --time-limit; quick: the scoreboard's --quick one.
  final        the workload has a final phase (heal, 10 s quiet, final reads, about 11 s).
  latency      which latency Fly.io's targets speak of: "stable" (broadcast: until a
               value is on every node) or "op" (client operations).
  targets      Fly.io's own numeric targets, as the scoreboard judges them (Maelstrom's
               documentation states none, so its rows have only bounds): metric
               msgs-per-op, latency-p50-ms, latency-max-ms (max: below), availability
               (min: at least).
  bounds       this project's bounds on results.json, held by `bazel test`: PATH -> "OP VALUE
               margin M" (syntax: tools/resultcheck/bound). The margin is what a noisy,
               shared 2-core machine needs on top of the target; it is written next to the
               target, never folded into it.
  pending_bounds  bounds on result keys the workbench does not write yet: checked when the
               key is there, noted when it is not (move them to bounds once it is).
  cpu          cores a run keeps busy, workbench and nodes together: the scoreboard's
               cpu_seconds / wall_seconds (scoreboard.json) on the shared 2-core machine,
               rounded up by about a quarter; the scoreboard schedules runs side by side
               under a CPU budget with it.
  quiet        the run's figures are latency-sensitive: the scoreboard never runs it
               beside a run that is not quiet.
"""

def _challenge(
        id,
        name,
        binary,
        workload,
        args,
        time_limit,
        quick,
        latency,
        cpu,
        env = {},
        final = False,
        targets = [],
        bounds = {},
        pending_bounds = {},
        quiet = False,
        suite = "flyio"):
    return {
        "suite": suite,
        "id": id,
        "name": name,
        "binary": binary,
        "workload": workload,
        "args": args,
        "env": env,
        "time_limit": time_limit,
        "quick": quick,
        "final": final,
        "latency": latency,
        "targets": targets,
        "bounds": bounds,
        "pending_bounds": pending_bounds,
        "cpu": cpu,
        "quiet": quiet,
    }

# Fly.io's targets.
_TOTAL_AVAILABILITY = {"metric": "availability", "min": 1}

# Fly.io's command line for 3d and 3e (the same for both).
_FLY_3D_3E = ["--node-count", "25", "--rate", "100", "--latency", "100"]

# What Fly.io's 5b, 5c, 6b and 6c command lines share.
_FLY_TWO_NODES = ["--node-count", "2", "--concurrency", "2n", "--rate", "1000"]

_FLYIO = [
    _challenge(
        id = "1",
        name = "Echo",
        binary = "echo",
        workload = "echo",
        args = ["--node-count", "1"],
        time_limit = 10,
        quick = 5,
        latency = "op",
        cpu = 0.05,
    ),
    _challenge(
        id = "2",
        name = "Unique ID generation",
        binary = "unique-ids",
        workload = "unique-ids",
        args = ["--rate", "1000", "--node-count", "3", "--availability", "total", "--nemesis", "partition"],
        time_limit = 30,
        quick = 10,
        latency = "op",
        cpu = 0.4,
        targets = [_TOTAL_AVAILABILITY],
        # Every request answered, partitions or not: no margin, the node needs no peer.
        bounds = {"availability.ok-fraction": ">= 1.0"},
    ),
    _challenge(
        id = "3a",
        name = "Single-node broadcast",
        binary = "broadcast",
        workload = "broadcast",
        args = ["--node-count", "1", "--rate", "10"],
        time_limit = 20,
        quick = 5,
        final = True,
        latency = "stable",
        cpu = 0.05,
    ),
    _challenge(
        id = "3b",
        name = "Multi-node broadcast",
        binary = "broadcast",
        workload = "broadcast",
        args = ["--node-count", "5", "--rate", "10"],
        time_limit = 20,
        quick = 5,
        final = True,
        latency = "stable",
        cpu = 0.05,
    ),
    _challenge(
        id = "3c",
        name = "Fault-tolerant broadcast",
        binary = "broadcast",
        workload = "broadcast",
        args = ["--node-count", "5", "--rate", "10", "--nemesis", "partition"],
        time_limit = 20,
        quick = 10,
        final = True,
        latency = "stable",
        cpu = 0.05,
    ),
    _challenge(
        id = "3d",
        name = "Efficient broadcast I",
        binary = "broadcast",
        workload = "broadcast",
        args = _FLY_3D_3E,
        env = {"GOSSIP_PRESET": "latency"},
        time_limit = 20,
        quick = 10,
        final = True,
        latency = "stable",
        cpu = 0.25,
        quiet = True,
        targets = [
            {"metric": "msgs-per-op", "max": 30},
            {"metric": "latency-p50-ms", "max": 400},
            {"metric": "latency-max-ms", "max": 600},
        ],
        # Issue 11's targets (Fly.io's are < 30 msgs/op, < 400 ms median, < 600 ms max),
        # measured on a quiet machine at 2.56-2.62 msgs/op, dissemination p50 154-157 ms,
        # max 235-238 ms. msgs/op barely moves with load: 5 %. A run beside others (bazel
        # test, a loaded machine) stretches the tail by CPU waits: 20 % on the median, 35 %
        # on the max. The node answers a broadcast in the step that stores it: delivery to
        # reply p50 3.0-3.7 ms here (requests released in a flush burst share two cores
        # with 24 other nodes), against 100 ms and more for a node that holds its replies;
        # the margin (100 %) is for load, far below what holding would cost.
        bounds = {
            "net.servers.msgs-per-op": "<= 2.9 margin 5%",
            'workload.dissemination-latencies["0.5"]': "<= 250 margin 20%",
            'workload.dissemination-latencies["1"]': "<= 340 margin 35%",
            'net.service-times.broadcast["0.5"]': "<= 5 margin 100%",
        },
    ),
    _challenge(
        id = "3e",
        name = "Efficient broadcast II",
        binary = "broadcast",
        workload = "broadcast",
        args = _FLY_3D_3E,
        env = {"GOSSIP_PRESET": "messages"},
        time_limit = 20,
        quick = 10,
        final = True,
        latency = "stable",
        cpu = 0.2,
        quiet = True,
        targets = [
            {"metric": "msgs-per-op", "max": 20},
            {"metric": "latency-p50-ms", "max": 1000},
            {"metric": "latency-max-ms", "max": 2000},
        ],
        # Issue 11's targets (Fly.io's: < 20 msgs/op, < 1 s median, < 2 s max), measured
        # on a quiet machine at 0.92-0.93 msgs/op, dissemination p50 336-347 ms, max
        # 596-600 ms (a value can wait one 470 ms round at its leaf, then a hop and the
        # hub's margin; see lib/gossip/README.md), delivery to reply p50 0.5-0.6 ms.
        # Margins as for 3d.
        bounds = {
            "net.servers.msgs-per-op": "<= 0.95 margin 5%",
            'workload.dissemination-latencies["0.5"]': "<= 380 margin 20%",
            'workload.dissemination-latencies["1"]': "<= 620 margin 20%",
            'net.service-times.broadcast["0.5"]': "<= 5 margin 100%",
        },
    ),
    _challenge(
        id = "4",
        name = "Grow-only counter",
        binary = "counter",
        workload = "g-counter",
        args = ["--node-count", "3", "--rate", "100", "--nemesis", "partition"],
        time_limit = 20,
        quick = 10,
        final = True,
        latency = "op",
        cpu = 0.15,
    ),
    _challenge(
        id = "5a",
        name = "Single-node Kafka-style log",
        binary = "kafka",
        workload = "kafka",
        args = ["--node-count", "1", "--concurrency", "2n", "--rate", "1000"],
        time_limit = 20,
        quick = 5,
        final = True,
        latency = "op",
        cpu = 0.35,
    ),
    # 5b runs the kafka node's straightforward lin-kv mode and 5c its efficient owner
    # mode (challenges/kafka reads KAFKA_MODE), so the board shows what 5c saves.
    _challenge(
        id = "5b",
        name = "Multi-node Kafka-style log",
        binary = "kafka",
        workload = "kafka",
        args = _FLY_TWO_NODES,
        env = {"KAFKA_MODE": "kv"},
        time_limit = 20,
        quick = 5,
        final = True,
        latency = "op",
        cpu = 0.5,
    ),
    _challenge(
        id = "5c",
        name = "Efficient Kafka-style log",
        binary = "kafka",
        workload = "kafka",
        args = _FLY_TWO_NODES,
        env = {"KAFKA_MODE": "owner"},
        time_limit = 20,
        quick = 5,
        final = True,
        latency = "op",
        cpu = 0.35,
        # 5b's lin-kv design needs 11.7-12.3 servers msgs/op; the owner design forwards a
        # send or poll to the key's owner (half the keys) and measures 1.25-1.27: bound it
        # at 1.3 with 15 % (1.495), still 8x below 5b.
        bounds = {"net.servers.msgs-per-op": "<= 1.3 margin 15%"},
    ),
    _challenge(
        id = "6a",
        name = "Single-node transactions",
        binary = "txn",
        workload = "txn-rw-register",
        args = ["--node-count", "1", "--rate", "1000", "--concurrency", "2n", "--consistency-models", "read-uncommitted", "--availability", "total"],
        time_limit = 20,
        quick = 5,
        latency = "op",
        cpu = 0.4,
        targets = [_TOTAL_AVAILABILITY],
    ),
    _challenge(
        id = "6b",
        name = "Read-uncommitted transactions",
        binary = "txn",
        workload = "txn-rw-register",
        args = _FLY_TWO_NODES + ["--consistency-models", "read-uncommitted"],
        time_limit = 20,
        quick = 5,
        latency = "op",
        cpu = 0.45,
    ),
    _challenge(
        id = "6b-partition",
        name = "Read-uncommitted, partitioned",
        binary = "txn",
        workload = "txn-rw-register",
        args = _FLY_TWO_NODES + ["--consistency-models", "read-uncommitted", "--availability", "total", "--nemesis", "partition"],
        time_limit = 20,
        quick = 10,
        latency = "op",
        cpu = 0.4,
        targets = [_TOTAL_AVAILABILITY],
    ),
    _challenge(
        id = "6c",
        name = "Read-committed transactions",
        binary = "txn",
        workload = "txn-rw-register",
        args = _FLY_TWO_NODES + ["--consistency-models", "read-committed", "--availability", "total", "--nemesis", "partition"],
        time_limit = 20,
        quick = 10,
        latency = "op",
        cpu = 0.45,
        targets = [_TOTAL_AVAILABILITY],
    ),
]

def _maelstrom(**kwargs):
    return _challenge(suite = "maelstrom", **kwargs)

# Maelstrom's lin-kv Raft command (doc/06-raft, the chapter's final run), without
# --node-count and --time-limit.
_RAFT = ["--concurrency", "4n", "--rate", "30", "--nemesis", "partition", "--nemesis-interval", "10"]

# Maelstrom's Datomic command for txn-list-append (doc/05-datomic), without --time-limit.
_DATOMIC = ["--node-count", "2", "--rate", "100"]

_MAELSTROM = [
    # doc/04-crdts/01-g-set.md: "--time-limit 10 --rate 100" (Maelstrom's default five
    # nodes, n1…n5), then "--time-limit 30 --rate 10 --nemesis partition". challenges/g-set
    # runs its default GOSSIP_PRESET, messages.
    _maelstrom(
        id = "g-set",
        name = "Grow-only set (CRDT)",
        binary = "g-set",
        workload = "g-set",
        args = ["--rate", "100"],
        time_limit = 10,
        quick = 5,
        final = True,
        latency = "stable",
        cpu = 0.05,
        # Measured 0.20-0.24 servers msgs/op, seeds 1-5 (stable latency p50 226-240 ms,
        # max 620-1218 ms: a value waits up to one 470 ms round at its leaf and one at the hub).
        bounds = {"net.servers.msgs-per-op": "<= 0.3 margin 20%"},
    ),
    _maelstrom(
        id = "g-set-partition",
        name = "Grow-only set, partitioned",
        binary = "g-set",
        workload = "g-set",
        args = ["--rate", "10", "--nemesis", "partition"],
        time_limit = 30,
        quick = 10,
        final = True,
        latency = "stable",
        cpu = 0.05,
        # Measured 0.75-1.16 servers msgs/op, seeds 1-5, median 0.86; nothing lost.
        bounds = {"net.servers.msgs-per-op": "<= 1.2 margin 15%"},
    ),
    # doc/04-crdts/02-counters.md: "--time-limit 20 --rate 10", then "--time-limit 30
    # --rate 10 --nemesis partition". Maelstrom's CRDT counter, not Fly.io's seq-kv one
    # (challenge 4, challenges/counter).
    _maelstrom(
        id = "pn-counter",
        name = "PN-counter (CRDT)",
        binary = "pn-counter",
        workload = "pn-counter",
        args = ["--rate", "10"],
        time_limit = 20,
        quick = 5,
        final = True,
        latency = "op",
        cpu = 0.05,
        # Measured 1.00-1.15 servers msgs/op, seeds 1-5, median 1.09 (at 10 ops/s a round
        # rarely carries more than one value per leaf).
        bounds = {"net.servers.msgs-per-op": "<= 1.2 margin 10%"},
    ),
    _maelstrom(
        id = "pn-counter-partition",
        name = "PN-counter, partitioned",
        binary = "pn-counter",
        workload = "pn-counter",
        args = ["--rate", "10", "--nemesis", "partition"],
        time_limit = 30,
        quick = 10,
        final = True,
        latency = "op",
        cpu = 0.05,
        # Measured 0.78-1.09 servers msgs/op, seeds 1-5, median 0.86.
        bounds = {"net.servers.msgs-per-op": "<= 1.2 margin 15%"},
    ),
    # doc/05-datomic/04-optimization.md: "--time-limit 10 --node-count 2 --rate 100".
    # The partitioned variant is this project's (as 6b-partition is), 30 s so that the
    # nemesis (every 10 s) partitions and heals at least once; a two-node Raft has no
    # majority on either side of a partition, so it is judged valid, not available.
    _maelstrom(
        id = "txn-list-append",
        name = "List-append transactions (Raft)",
        binary = "txn-list-append",
        workload = "txn-list-append",
        args = _DATOMIC,
        time_limit = 10,
        quick = 5,
        latency = "op",
        cpu = 0.15,
        # Issue 24's target: at most 4 servers messages per op (Maelstrom's Datomic example
        # spends 8.5-14.5). Measured: see docs/maelstrom-suite.md.
        bounds = {"net.servers.msgs-per-op": "<= 4"},
    ),
    _maelstrom(
        id = "txn-list-append-partition",
        name = "List-append transactions, partitioned",
        binary = "txn-list-append",
        workload = "txn-list-append",
        args = _DATOMIC + ["--nemesis", "partition"],
        time_limit = 30,
        quick = 10,
        latency = "op",
        cpu = 0.15,
    ),
    # doc/06-raft/05-committing.md, the chapter's final command: "--node-count 3
    # --concurrency 4n --rate 30 --time-limit 60 --nemesis partition --nemesis-interval 10";
    # and the same on five nodes. //challenges/lin-kv is built on lib/raft (docs/raft.md).
    _maelstrom(
        id = "lin-kv",
        name = "Linearizable key-value store (Raft)",
        binary = "lin-kv",
        workload = "lin-kv",
        args = ["--node-count", "3"] + _RAFT,
        time_limit = 60,
        quick = 20,
        latency = "op",
        cpu = 0.5,
        # Measured 2.80-3.36 servers msgs/op on 5 seeds (docs/raft.md), every run valid.
        bounds = {"net.servers.msgs-per-op": "<= 3.4 margin 10%"},
    ),
    _maelstrom(
        id = "lin-kv-5",
        name = "Linearizable key-value store, 5 nodes",
        binary = "lin-kv",
        workload = "lin-kv",
        args = ["--node-count", "5"] + _RAFT,
        time_limit = 60,
        quick = 20,
        latency = "op",
        cpu = 0.6,
    ),
]

CHALLENGES = _FLYIO + _MAELSTROM

CHALLENGES_BY_ID = {c["id"]: c for c in CHALLENGES}
