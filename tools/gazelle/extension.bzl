"""The gazelle binary behind //:gazelle: prebuilt by the offline toolchain when it has one.

tools/toolchain/provision.sh builds gazelle once per toolchain root (from the module
sources of the pinned version, with the pinned Go SDK) into /opt/glomers-gazelle/gazelle.
When that file exists (under tools/bazel), @glomers_gazelle//:gazelle runs it, and
`tools/bazel run //:gazelle` compiles nothing: a fresh clone regenerates its BUILD files
in seconds instead of first building the Go standard library and gazelle's dependencies.
Elsewhere (your own Bazel, online) it is gazelle built from source, as usual.
"""

_PREBUILT = "/opt/glomers-gazelle/gazelle"

def _glomers_gazelle_impl(rctx):
    prebuilt = rctx.path(_PREBUILT)
    if prebuilt.exists:
        # The file itself: the gazelle rule wants a single executable file.
        rctx.symlink(prebuilt, "gazelle")
        rctx.file("BUILD.bazel", """\
# gazelle, prebuilt by tools/toolchain/provision.sh ({path}).
exports_files(["gazelle"])
""".format(path = _PREBUILT))
    else:
        rctx.file("BUILD.bazel", """\
# No prebuilt gazelle here: gazelle built from source.
alias(
    name = "gazelle",
    actual = "@bazel_gazelle//cmd/gazelle",
    visibility = ["//visibility:public"],
)
""")

glomers_gazelle = repository_rule(
    implementation = _glomers_gazelle_impl,
    # Looked at again whenever Bazel starts: a root provisioned later has the binary.
    local = True,
)

def _gazelle_binary_impl(_mctx):
    glomers_gazelle(name = "glomers_gazelle")

gazelle_binary = module_extension(implementation = _gazelle_binary_impl)
