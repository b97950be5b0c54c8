"""maelstrom_test: a Maelstrom workload run against a node binary, as a Bazel test.

A challenge's BUILD file then reads like a table:

    maelstrom_test(
        name = "broadcast_partition_test",
        binary = ":broadcast",
        workload = "broadcast",
        args = ["--node-count", "5", "--time-limit", "20", "--nemesis", "partition"],
    )

The test runs //tools/workbench (or, when the environment variable MAELSTROM names a
Maelstrom executable, that one) as `test -w WORKLOAD --bin NODE ARGS...` in a scratch
directory, and keeps its store/ among the test's undeclared outputs
(bazel-testlogs/<package>/<name>/test.outputs/).
"""

load("@rules_shell//shell:sh_test.bzl", "sh_test")

_EXIT_CODE = {
    # The checker accepted the history.
    "valid": 0,
    # The checker rejected it: what a deliberately broken fixture node must get.
    "invalid": 1,
}

def maelstrom_test(name, binary, workload, args = [], env = {}, expect = "valid", size = "medium", cpu = 0.25, tags = [], **kwargs):
    """Declares an sh_test that runs a Maelstrom workload against `binary`.

    Args:
      name: the test's name.
      binary: label of the node executable (usually a go_binary).
      workload: the Maelstrom workload, e.g. "echo", "broadcast", "lin-kv".
      args: further Maelstrom `test` flags (--node-count, --time-limit, --rate, ...).
      env: environment for the run; Maelstrom and the workbench pass their environment on
        to the nodes, so this is how a node's mode is chosen (GOSSIP_PRESET, KAFKA_MODE).
      expect: "valid" (pass iff the checker accepts) or "invalid" (pass iff it rejects).
      size: the test size; "medium" allows 5 minutes.
      cpu: the cores the run needs, nodes and workbench together (the test log's last
        lines say what a run used: `maelstrom_test: W s wall, U s user + S s system CPU`).
        Most runs wait on Maelstrom's clock and use a tenth of a core or less, so Bazel
        runs several side by side (it fits tests into --local_resources=cpu, all cores
        by default); a lighter run says less, a heavier one more, and a run whose
        latency figures matter reserves a margin.
      tags: extra tags; "maelstrom" is always added (bazel test --test_tag_filters=-maelstrom
        leaves these tests out).
      **kwargs: passed to sh_test (timeout, flaky, shard_count, ...).
    """
    if expect not in _EXIT_CODE:
        fail("maelstrom_test %s: expect must be one of %s, not %r" % (name, sorted(_EXIT_CODE), expect))
    workbench = "//tools/workbench"
    sh_test(
        name = name,
        srcs = ["//tools:maelstrom_test.sh"],
        args = [
            str(_EXIT_CODE[expect]),
            "$(rlocationpath %s)" % workbench,
            "$(rlocationpath %s)" % binary,
            "-w",
            workload,
        ] + args,
        data = [workbench, binary],
        deps = ["@bazel_tools//tools/bash/runfiles"],
        # A real Maelstrom can stand in for the workbench: MAELSTROM=/path/to/maelstrom.
        env = env,
        env_inherit = ["MAELSTROM"],
        size = size,
        tags = ["maelstrom", "resources:cpu:%s" % cpu] + tags,
        **kwargs
    )
