"""challenge_test: a Maelstrom test of one row of tools/flyio/challenges.bzl, run as the table says.

flyio_test is its name for Fly.io's rows (suite "flyio"); Maelstrom's own workloads (suite
"maelstrom") use challenge_test:

    challenge_test(
        name = "maelstrom_g_set_partition_test",
        challenge = "g-set-partition",
        binary = ":g-set",
    )

For Fly.io's:

    flyio_test(
        name = "maelstrom_3d_efficient_test",
        challenge = "3d",
        binary = ":broadcast",
    )

runs Fly.io's 3d command line with its environment and holds the bounds the table states.
Variants change the command line and then state their own bounds (the table's bounds are
for the exact command line):

    flyio_test(
        name = "maelstrom_3d_partition_test",
        challenge = "3d",
        binary = ":broadcast",
        extra_args = ["--nemesis", "partition"],
    )

and a broken fixture node runs the way the challenge it breaks is run:

    flyio_test(
        name = "counter_blind_write_test",
        challenge = "4",
        binary = "//tools/fixtures/counter-blind-write",
        expect = "invalid",
        expect_failure = ['workload.first-error contains "not an acceptable total"'],
    )
"""

load("//tools:maelstrom_test.bzl", "maelstrom_test")
load(":challenges.bzl", "CHALLENGES", "CHALLENGES_BY_ID")

def flyio_test(name, challenge, **kwargs):
    """challenge_test for one of Fly.io's challenges (suite "flyio").

    Args:
      name: the test's name.
      challenge: the challenge's id in CHALLENGES, e.g. "3d".
      **kwargs: as challenge_test.
    """
    if challenge in CHALLENGES_BY_ID and CHALLENGES_BY_ID[challenge]["suite"] != "flyio":
        fail("flyio_test %s: %r is a %s row; use challenge_test" % (name, challenge, CHALLENGES_BY_ID[challenge]["suite"]))
    challenge_test(name = name, challenge = challenge, **kwargs)

def challenge_test(
        name,
        challenge,
        binary,
        extra_args = [],
        workbench_args = [],
        time_limit = None,
        bounds = None,
        pending_bounds = None,
        expect = "valid",
        cpu = None,
        **kwargs):
    """A maelstrom_test with the command line, environment and bounds of one challenge.

    Args:
      name: the test's name.
      challenge: the challenge's id in CHALLENGES, e.g. "3d" or "g-set-partition".
      binary: label of the node executable.
      extra_args: Maelstrom flags after the challenge's own (e.g. --nemesis partition).
      workbench_args: flags only the workbench knows (e.g. --seed 2), left out under MAELSTROM;
        --bounds CHALLENGE is always among them, so the summary judges this repository's
        bounds and names its node settings.
      time_limit: overrides the challenge's --time-limit (fixtures run shorter).
      bounds: the bounds to hold (dict PATH -> "OP VALUE margin M"); default: the table's,
        when the test runs the challenge's exact command line and expects a valid run,
        else none.
      pending_bounds: as bounds, for the table's pending_bounds.
      expect: "valid" or "invalid", as maelstrom_test.
      cpu: the cores the run needs (maelstrom_test's cpu); default: the table's measured
        figure, at least half a core for a quiet (latency-judged) challenge, which must not
        wait behind the fractional runs Bazel packs beside it.
      **kwargs: passed to maelstrom_test (expect_failure, size, tags, ...). A quiet
        challenge's test with bounds is flaky = True unless kwargs says otherwise, and
        tagged exclusive (Bazel runs it alone, after the others).
    """
    if challenge not in CHALLENGES_BY_ID:
        fail("challenge_test %s: unknown challenge %r (known: %s)" % (name, challenge, ", ".join([c["id"] for c in CHALLENGES])))
    c = CHALLENGES_BY_ID[challenge]
    exact = expect == "valid" and not extra_args and (time_limit == None or time_limit == c["time_limit"])
    if bounds == None:
        bounds = c["bounds"] if exact else {}
    if pending_bounds == None:
        pending_bounds = c["pending_bounds"] if exact else {}
    if cpu == None:
        cpu = max(c["cpu"], 0.5) if c["quiet"] else c["cpu"]
    if c["quiet"] and bounds and "flaky" not in kwargs:
        # A latency bound is a tail figure: one stall of the shared machine (Bazel
        # beside the run) can make a batch miss a round and double a run's max
        # (3e: 1033 ms once in a `bazel test //...`, 596-605 ms in every quiet run).
        # Bazel retries such a test up to twice and reports it FLAKY; a regression
        # fails every attempt.
        kwargs["flaky"] = True
    if c["quiet"] and bounds:
        # And it runs alone: a latency tail measured beside other Maelstrom runs (the new
        # 60 s lin-kv runs among them) measures the machine, not the node (3e's max:
        # 987-1061 ms in all three attempts of one loaded run, 597 ms alone).
        kwargs["tags"] = kwargs.get("tags", []) + ["exclusive"]
    maelstrom_test(
        name = name,
        binary = binary,
        cpu = cpu,
        workload = c["workload"],
        args = c["args"] + ["--time-limit", str(time_limit or c["time_limit"])] + extra_args,
        workbench_args = ["--bounds", challenge] + workbench_args,
        env = c["env"],
        bounds = bounds,
        pending_bounds = pending_bounds,
        expect = expect,
        **kwargs
    )

def _bound_list(bounds):
    return [path + " " + rule for path, rule in bounds.items()]

def _go_table():
    """CHALLENGES as Go reads it: bounds as lists of whole expressions, in order."""
    out = []
    for c in CHALLENGES:
        g = {}
        for k, v in c.items():
            if k in ("bounds", "pending_bounds"):
                v = _bound_list(v)
            g[k] = v
        out.append(g)
    return out

def _challenges_json_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode_indent(_go_table(), indent = "  ") + "\n")
    return [DefaultInfo(files = depset([out]))]

challenges_json = rule(
    implementation = _challenges_json_impl,
    doc = "Writes CHALLENGES (tools/flyio/challenges.bzl) as <name>.json, for Go.",
)
