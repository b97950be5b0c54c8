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

Beyond the verdict, a test can hold bounds on the run's results.json and a fixture can say
why its run must be rejected (expressions of tools/resultcheck/bound, judged by
//tools/resultcheck after the run; each is printed with its measured value):

    bounds = {"net.servers.msgs-per-op": "<= 2.9 margin 5%"},
    expect_failure = ["workload.lost-count > 0"],

Each test states which harness its expectation holds for. Flags only the workbench knows
(--seed, --delivery, --node-env, --bounds, --maelstrom-verdicts) go in workbench_args, which
a run under MAELSTROM leaves out (Maelstrom refuses options it does not know). A fixture that
only the workbench's strict checks reject (docs/verdicts.md) says what Maelstrom concludes
instead, and one whose failure Maelstrom finds only by chance is skipped there, saying why:

    maelstrom_expect = "valid",   # or "skip"
    maelstrom_why = "Elle has no garbage-read check",

Fly.io's challenges and Maelstrom's own workloads are declared with challenge_test (Fly.io's
also with its older name, flyio_test; tools/flyio/defs.bzl), which takes the command line
and the bounds from the one table, tools/flyio/challenges.bzl.
"""

load("@rules_shell//shell:sh_test.bzl", "sh_test")

_EXIT_CODE = {
    # The checker accepted the history.
    "valid": 0,
    # The checker rejected it: what a deliberately broken fixture node must get.
    "invalid": 1,
}

def _quoted(name, expr):
    # sh_test args go through Bourne-shell tokenization: single quotes keep an
    # expression (spaces, ["0.5"]) one argument.
    if "'" in expr or "$" in expr:
        fail("maelstrom_test %s: %r: expressions may not contain ' or $" % (name, expr))
    return "'" + expr + "'"

def maelstrom_test(
        name,
        binary,
        workload,
        args = [],
        workbench_args = [],
        env = {},
        expect = "valid",
        maelstrom_expect = None,
        maelstrom_why = "",
        bounds = {},
        pending_bounds = {},
        expect_failure = [],
        size = "medium",
        cpu = 0.25,
        tags = [],
        **kwargs):
    """Declares an sh_test that runs a Maelstrom workload against `binary`.

    Args:
      name: the test's name.
      binary: label of the node executable (usually a go_binary).
      workload: the Maelstrom workload, e.g. "echo", "broadcast", "lin-kv".
      args: further Maelstrom `test` flags (--node-count, --time-limit, --rate, ...).
      workbench_args: flags only the workbench knows (--seed 2, --bounds 3d, ...); left out
        when MAELSTROM runs the test.
      env: environment for the run; Maelstrom and the workbench pass their environment on
        to the nodes, so this is how a node's mode is chosen (GOSSIP_PRESET, KAFKA_MODE).
      expect: "valid" (pass iff the checker accepts) or "invalid" (pass iff it rejects).
      maelstrom_expect: what holds when MAELSTROM runs the test, if not expect: "valid" (a
        fixture only the workbench's strict checks reject; its expect_failure is then not
        checked) or "skip" (Maelstrom finds the failure only by chance, e.g. by timing).
      maelstrom_why: why maelstrom_expect differs (required with it); printed by the test.
      bounds: for a valid run, PATH -> "OP VALUE [margin M]" that results.json must satisfy,
        e.g. {"net.servers.msgs-per-op": "<= 2.9 margin 5%"}; the margin (what a noisy
        2-core machine needs) is written next to the target.
      pending_bounds: as bounds, but on keys the workbench may not write yet: judged when
        present, noted when absent.
      expect_failure: for an invalid run (required there), expressions that say why it must
        be rejected, e.g. ["workload.lost-count > 0"]; a run rejected for another reason
        fails the test.
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
    if expect == "invalid" and not expect_failure:
        fail("maelstrom_test %s: an expected failure needs expect_failure, the reason the run must be rejected" % name)
    if expect == "valid" and expect_failure:
        fail("maelstrom_test %s: expect_failure is for expect = \"invalid\"" % name)
    if expect == "invalid" and (bounds or pending_bounds):
        fail("maelstrom_test %s: bounds are for expect = \"valid\"" % name)
    if maelstrom_expect != None and maelstrom_expect not in ["valid", "skip"]:
        fail("maelstrom_test %s: maelstrom_expect must be \"valid\" or \"skip\", not %r" % (name, maelstrom_expect))
    if (maelstrom_expect != None) != (maelstrom_why != ""):
        fail("maelstrom_test %s: maelstrom_expect and maelstrom_why go together" % name)
    for a in workbench_args:
        if a in ["--bin", "--workload", "-w"]:
            fail("maelstrom_test %s: %s is not a workbench-only flag" % (name, a))
    harness = ["--workbench-arg=" + _quoted(name, a) for a in workbench_args]
    if maelstrom_expect != None:
        harness += [
            "--maelstrom-expect=" + ("skip" if maelstrom_expect == "skip" else str(_EXIT_CODE[maelstrom_expect])),
            "--maelstrom-why=" + _quoted(name, maelstrom_why),
        ]
    checks = (["--bound=" + _quoted(name, p + " " + r) for p, r in bounds.items()] +
              ["--pending=" + _quoted(name, p + " " + r) for p, r in pending_bounds.items()] +
              ["--reason=" + _quoted(name, e) for e in expect_failure] + harness)
    workbench = "//tools/workbench"
    resultcheck = "//tools/resultcheck"
    sh_test(
        name = name,
        srcs = ["//tools:maelstrom_test.sh"],
        args = [
            str(_EXIT_CODE[expect]),
            "$(rlocationpath %s)" % workbench,
            "$(rlocationpath %s)" % binary,
            "$(rlocationpath %s)" % resultcheck,
        ] + checks + [
            "--",
            "-w",
            workload,
        ] + args,
        data = [workbench, binary, resultcheck],
        deps = ["@bazel_tools//tools/bash/runfiles"],
        # A real Maelstrom can stand in for the workbench: MAELSTROM=/path/to/maelstrom.
        env = env,
        env_inherit = ["MAELSTROM"],
        size = size,
        tags = ["maelstrom", "resources:cpu:%s" % cpu] + tags,
        **kwargs
    )
